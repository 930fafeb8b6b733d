"""Accounts and sign-in: passwords, sessions and API tokens, single-use links, terms of service.

Services here import no web framework; ``projectw.api`` turns them into HTTP routes.
"""
