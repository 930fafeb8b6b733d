"""Opaque random tokens and the hashes they are stored under."""

from __future__ import annotations

import hashlib
import secrets

TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest a token is stored and looked up under.

    A plain hash suffices: the token is 256 random bits, so there is nothing to brute-force.
    """
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
