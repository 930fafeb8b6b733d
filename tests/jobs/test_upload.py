"""Streaming multipart uploads to a temporary file: limits, fields, clean-up."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from projectw.errors import BadRequest, InvalidInput, PayloadTooLarge
from projectw.jobs.upload import clean_file_name, receive_upload

BOUNDARY = "testboundary1234"
CONTENT_TYPE = f"multipart/form-data; boundary={BOUNDARY}"


def _body(
    data: bytes, file_name: str = "talk.wav", settings: str | None = None, close: bool = True
) -> bytes:
    parts = b""
    if settings is not None:
        parts += (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="settings"\r\n\r\n{settings}\r\n'
        ).encode()
    parts += (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    parts += data + b"\r\n"
    if close:
        parts += f"--{BOUNDARY}--\r\n".encode()
    return parts


class _Body:
    """An async body in fixed-size pieces that records how much was read."""

    def __init__(self, data: bytes, piece: int = 65536) -> None:
        self.data = data
        self.piece = piece
        self.read = 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self.data), self.piece):
            chunk = self.data[start : start + self.piece]
            self.read += len(chunk)
            yield chunk


@pytest.mark.parametrize("piece", [1, 7, 4096, 1 << 20])
async def test_file_and_settings_arrive_intact_in_any_pieces(tmp_path: Path, piece: int) -> None:
    data = os.urandom(50_000 if piece > 1 else 3000)
    body = _Body(_body(data, settings='{"language": "de"}'), piece)
    async with receive_upload(body, CONTENT_TYPE, tmp_path, 10**6) as upload:
        assert upload.path.read_bytes() == data
        assert upload.size == len(data)
        assert upload.file_name == "talk.wav"
        assert upload.content_type == "audio/wav"
        assert upload.settings_json == '{"language": "de"}'
        assert upload.path.parent == tmp_path
    assert list(tmp_path.iterdir()) == []


async def test_an_upload_over_the_limit_is_stopped_early(tmp_path: Path) -> None:
    body = _Body(_body(os.urandom(5_000_000)))
    with pytest.raises(PayloadTooLarge, match="larger than the 1.0 MiB"):
        async with receive_upload(body, CONTENT_TYPE, tmp_path, 1024 * 1024):
            pytest.fail("the upload should have been refused")
    assert body.read < 2 * 1024 * 1024
    assert list(tmp_path.iterdir()) == []


async def test_a_declared_length_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    body = _Body(_body(b"x" * 10))
    with pytest.raises(PayloadTooLarge):
        async with receive_upload(body, CONTENT_TYPE, tmp_path, 2048, declared_length=10**9):
            pass
    assert body.read == 0


async def test_the_temporary_file_is_removed_when_the_caller_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        async with receive_upload(_Body(_body(b"abc")), CONTENT_TYPE, tmp_path, 10**6):
            raise RuntimeError("probe failed")
    assert list(tmp_path.iterdir()) == []


async def test_a_body_without_file_is_refused(tmp_path: Path) -> None:
    body = _Body(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="settings"\r\n\r\n{{}}\r\n'
        f"--{BOUNDARY}--\r\n".encode()
    )
    with pytest.raises(InvalidInput, match="Field 'file' is required"):
        async with receive_upload(body, CONTENT_TYPE, tmp_path, 10**6):
            pass
    assert list(tmp_path.iterdir()) == []


async def test_a_cut_off_body_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="ended before"):
        async with receive_upload(
            _Body(_body(b"abc" * 100, close=False)), CONTENT_TYPE, tmp_path, 10**6
        ):
            pass


async def test_a_non_multipart_body_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadRequest, match="multipart/form-data"):
        async with receive_upload(_Body(b"{}"), "application/json", tmp_path, 10**6):
            pass


async def test_a_huge_settings_field_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="too large"):
        async with receive_upload(
            _Body(_body(b"abc", settings="x" * 100_000)), CONTENT_TYPE, tmp_path, 10**6
        ):
            pass


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("talk.wav", "talk.wav"),
        ("C:\\Users\\me\\talk.mp3", "talk.mp3"),
        ("../../etc/passwd", "passwd"),
        ("a\x00b\nc.ogg", "abc.ogg"),
        ("", "recording"),
        ("Interview Müller 🎙.m4a", "Interview Müller 🎙.m4a"),
        ("x" * 300 + ".flac", "x" * 250 + ".flac"),
    ],
)
def test_file_names_are_cleaned(raw: str, clean: str) -> None:
    assert clean_file_name(raw) == clean
