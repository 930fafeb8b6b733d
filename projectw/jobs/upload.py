"""Receiving an upload: a multipart body streamed to a temporary file, never held in memory.

The body is parsed as it arrives; the file part goes to a file under the data dir's tmp folder
in buffered writes, and the transfer stops the moment it passes the size limit. The file is
removed when the ``receive_upload`` context ends, whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import tempfile
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, MultipartState, parse_options_header

from projectw.errors import BadRequest, InvalidInput, PayloadTooLarge

log = logging.getLogger(__name__)

FILE_FIELD = "file"
SETTINGS_FIELD = "settings"
# Non-file fields are small JSON; anything bigger is a mistake or an attack.
MAX_FIELD_BYTES = 64 * 1024
# Room for multipart framing and the settings field on top of the file itself.
BODY_OVERHEAD_BYTES = 256 * 1024
_WRITE_BUFFER_BYTES = 1024 * 1024


@dataclass
class ReceivedUpload:
    """An uploaded file on disk plus the form's other fields."""

    path: Path
    file_name: str
    size: int
    content_type: str | None
    settings_json: str | None


def clean_file_name(raw: str) -> str:
    """The last path component, without control characters, at most 255 characters."""
    name = re.split(r"[\\/]", raw)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C").strip()
    if len(name) > 255:
        stem, dot, suffix = name.rpartition(".")
        name = f"{stem[: 254 - len(suffix)]}.{suffix}" if dot and len(suffix) < 16 else name[:255]
    return name or "recording"


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The file is larger than the {_human_bytes(limit)} an upload may have.",
    )


def _human_bytes(count: int) -> str:
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


class _FormReader:
    """Callbacks for python-multipart: routes part data to the file or to small fields."""

    def __init__(self, handle: BinaryIO, max_bytes: int) -> None:
        self.handle = handle
        self.max_bytes = max_bytes
        self.pending = bytearray()
        self.file_size = 0
        self.file_name: str | None = None
        self.file_type: str | None = None
        self.fields: dict[str, bytearray] = {}
        self._headers: dict[str, bytes] = {}
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._target: bytearray | None = None
        self._in_file = False

    def callbacks(self) -> dict[str, object]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field_data,
            "on_header_value": self._header_value_data,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers = {}

    def _header_field_data(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        name = self._header_field.decode("latin-1").strip().lower()
        # Kept as bytes: browsers send UTF-8 file names raw in the header (RFC 7578).
        self._headers[name] = bytes(self._header_value)
        self._header_field.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _disposition, options = parse_options_header(self._headers.get("content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", "replace")
        file_name = options.get(b"filename")
        if name == FILE_FIELD:
            if self.file_name is not None:
                raise InvalidInput("Send one file per request in the 'file' field.")
            self.file_name = clean_file_name(
                file_name.decode("utf-8", "replace") if file_name else ""
            )
            declared = self._headers.get("content-type")
            self.file_type = declared.decode("latin-1") if declared is not None else None
            self._in_file = True
        else:
            self._target = self.fields.setdefault(name, bytearray())

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._in_file:
            self.file_size += end - start
            if self.file_size > self.max_bytes:
                raise _too_large(self.max_bytes)
            self.pending += data[start:end]
        elif self._target is not None:
            self._target += data[start:end]
            if len(self._target) > MAX_FIELD_BYTES:
                raise InvalidInput("A form field other than 'file' is too large.")

    def _part_end(self) -> None:
        self._in_file = False
        self._target = None


@contextlib.asynccontextmanager
async def receive_upload(
    body: AsyncIterator[bytes],
    content_type: str | None,
    tmp_dir: Path,
    max_bytes: int,
    declared_length: int | None = None,
) -> AsyncIterator[ReceivedUpload]:
    """Stream a multipart/form-data body into a temporary file; removed when the block ends."""
    media_type, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise BadRequest(
            "Send the recording as multipart/form-data with the file in the 'file' field."
        )
    if declared_length is not None and declared_length > max_bytes + BODY_OVERHEAD_BYTES:
        raise _too_large(max_bytes)
    tmp_dir.mkdir(parents=True, exist_ok=True)
    descriptor, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir)
    path = Path(name)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            reader = _FormReader(handle, max_bytes)
            await _parse(body, boundary, reader, max_bytes + BODY_OVERHEAD_BYTES)
        if reader.file_name is None:
            raise InvalidInput("Field 'file' is required: attach the recording to upload.")
        settings = reader.fields.get(SETTINGS_FIELD)
        yield ReceivedUpload(
            path=path,
            file_name=reader.file_name,
            size=reader.file_size,
            content_type=reader.file_type,
            settings_json=settings.decode("utf-8", "replace") if settings is not None else None,
        )
    finally:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


async def _parse(
    body: AsyncIterator[bytes], boundary: bytes, reader: _FormReader, max_body: int
) -> None:
    parser = MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > max_body:
                raise _too_large(reader.max_bytes)
            parser.write(chunk)
            if len(reader.pending) >= _WRITE_BUFFER_BYTES:
                await _flush(reader)
        parser.finalize()
    except MultipartParseError:
        raise BadRequest("The multipart form data is malformed.") from None
    await _flush(reader)
    if parser.state != MultipartState.END:
        raise BadRequest("The upload ended before the form data was complete.")


async def _flush(reader: _FormReader) -> None:
    if reader.pending:
        data = bytes(reader.pending)
        reader.pending.clear()
        await asyncio.to_thread(reader.handle.write, data)
