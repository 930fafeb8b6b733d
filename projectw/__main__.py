from projectw.cli import main

main()
