"""The runner: takes jobs from a Project-W server and transcribes them with an engine.

It imports only ``projectw.protocol``, ``projectw.transcripts`` and its engines, so a GPU
machine runs ``projectw runner`` without the server's database stack.
"""
