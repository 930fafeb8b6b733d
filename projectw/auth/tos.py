"""Terms of service: configured documents with versions, and who accepted which version."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from projectw.config import Settings, TermsDocument
from projectw.errors import Conflict, NotFound, ServiceUnavailable


@dataclass(frozen=True)
class Terms:
    id: str
    name: str
    version: int
    text: str


def _read(document: TermsDocument) -> str:
    if document.text is not None:
        return document.text
    assert document.file is not None
    try:
        return document.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ServiceUnavailable(
            f"The terms document {document.id!r} cannot be read from {document.file}: {exc}",
            code="tos_unreadable",
        ) from None


def documents(settings: Settings) -> list[Terms]:
    """Every configured document with its text."""
    return [Terms(d.id, d.name, d.version, _read(d)) for d in settings.tos]


def accepted_version(accepted: dict[str, Any], tos_id: str) -> int | None:
    value = accepted.get(tos_id)
    return value if isinstance(value, int) else None


def pending(settings: Settings, accepted: dict[str, Any]) -> list[TermsDocument]:
    """Documents whose current version the user has not accepted."""
    return [d for d in settings.tos if accepted_version(accepted, d.id) != d.version]


def accept(
    settings: Settings, accepted: dict[str, Any], tos_id: str, version: int
) -> dict[str, Any]:
    """The user's new acceptance record after accepting ``version`` of ``tos_id``."""
    document = next((d for d in settings.tos if d.id == tos_id), None)
    if document is None:
        raise NotFound(f"There is no terms document with id {tos_id!r}.", code="tos_not_found")
    if version != document.version:
        raise Conflict(
            f"Version {version} of {document.name!r} is not the current one "
            f"(version {document.version}); reload and accept the current text.",
            code="tos_version_outdated",
        )
    return {**accepted, tos_id: version}
