"""The server secret and the purpose-specific keys derived from it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from projectw.config import Settings, check_secret
from projectw.errors import StartupError


def load_or_create_secret(settings: Settings) -> bytes:
    """The configured secret, else the one in DATA_DIR/secret_key, created on first start."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode()
    path = settings.paths.secret_key_file
    try:
        value = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return _create_secret_file(path)
    except OSError as exc:
        raise StartupError(f"cannot read the secret key file {path}: {exc.strerror}") from None
    try:
        check_secret(value)
    except ValueError as exc:
        raise StartupError(f"the secret key in {path} {exc}") from None
    return value.encode()


def _create_secret_file(path: Path) -> bytes:
    value = secrets.token_urlsafe(48)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip().encode()
    except OSError as exc:
        raise StartupError(f"cannot create the secret key file {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(value + "\n")
    return value.encode()


def derive_key(secret: bytes, purpose: str, length: int = 32) -> bytes:
    """An independent key for one purpose (encryption, signing, …) from the server secret."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=b"projectw", info=purpose.encode())
    return hkdf.derive(secret)
