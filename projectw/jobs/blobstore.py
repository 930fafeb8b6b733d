"""Encrypted blobs (audio, transcripts) stored in the database in chunks.

Every chunk is sealed with ChaCha20-Poly1305 under a key derived from the server secret. The
nonce is the blob's random 8-byte prefix followed by the 4-byte chunk index, and the associated
data binds the blob id, the chunk index and whether the chunk is the last one: a chunk moved to
another place or blob, a blob cut short, or a changed byte all fail authentication. Every blob
has at least one chunk (the last one), so even a blob cut down to nothing is detected.

Writing happens in short transactions of a few chunks each (SQLite has one writer at a time; a
1 GiB upload must not hold the write lock for its whole duration). A blob is marked complete in
the caller's transaction that also stores the reference to it, so a blob whose writer died is
never referenced and is swept by ``delete_abandoned``. A small blob (a transcript) is instead
written whole, complete, in the caller's transaction (``write_small``): one round trip instead
of four short transactions.
"""

from __future__ import annotations

import asyncio
import os
import struct
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import cast

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from sqlalchemy import Table, bindparam, delete, exists, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.selectable import Exists

from projectw.db.base import utcnow
from projectw.db.engine import Database
from projectw.db.models import Blob, BlobChunk, Job
from projectw.errors import ProjectWError
from projectw.keys import derive_key

KEY_PURPOSE = "blob-encryption"
CHUNK_SIZE = 1024 * 1024
# Chunks written per transaction while storing a file.
CHUNKS_PER_TRANSACTION = 8
# Largest blob ``write_small`` stores in the caller's transaction: sealing and inserting this
# much takes about a millisecond.
SMALL_BLOB_LIMIT = 256 * 1024

_BLOBS = cast(Table, Blob.__table__)
_CHUNKS = cast(Table, BlobChunk.__table__)


class BlobCorrupt(ProjectWError):
    """A stored blob failed authentication: it was changed, reordered or cut short."""

    status_code = 500
    code = "blob_corrupt"


class BlobMissing(ProjectWError):
    """The blob does not exist (any more)."""

    status_code = 404
    code = "not_found"


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob's description: what reading and checking its chunks needs."""

    id: int
    size: int
    chunk_size: int
    chunk_count: int
    nonce_prefix: bytes
    complete: bool


_DESCRIBE = select(
    _BLOBS.c.id,
    _BLOBS.c.size,
    _BLOBS.c.chunk_size,
    _BLOBS.c.chunk_count,
    _BLOBS.c.nonce_prefix,
    _BLOBS.c.complete,
).where(_BLOBS.c.id == bindparam("blob_id"))


async def describe_in(session: AsyncSession, blob_id: int) -> BlobInfo:
    """The blob's description, read in the caller's session.

    Raises BlobMissing for an unknown or unfinished blob.
    """
    row = (await session.execute(_DESCRIBE, {"blob_id": blob_id})).first()
    blob = BlobInfo(*row) if row is not None else None
    if blob is None or not blob.complete:
        raise BlobMissing("The stored file no longer exists.")
    if blob.chunk_count < 1:
        raise BlobCorrupt(f"Stored data {blob_id} has no parts.")
    return blob


_CHUNK = select(_CHUNKS.c.data).where(
    _CHUNKS.c.blob_id == bindparam("blob_id"), _CHUNKS.c.index == bindparam("index")
)


async def sealed_chunk(session: AsyncSession, blob_id: int, index: int) -> bytes | None:
    """One chunk of a blob as stored (sealed), read in the caller's session."""
    sealed: bytes | None = await session.scalar(_CHUNK, {"blob_id": blob_id, "index": index})
    return sealed


def _associated_data(blob_id: int, index: int, last: bool) -> bytes:
    return b"projectw-blob-v1" + struct.pack(">QI?", blob_id, index, last)


def _nonce(prefix: bytes, index: int) -> bytes:
    return prefix + struct.pack(">I", index)


class BlobStore:
    """Stores, reads and deletes encrypted blobs."""

    def __init__(self, db: Database, secret: bytes, chunk_size: int = CHUNK_SIZE) -> None:
        self.db = db
        self._cipher = ChaCha20Poly1305(derive_key(secret, KEY_PURPOSE))
        self.chunk_size = chunk_size

    def _seal(self, blob: BlobInfo, index: int, last: bool, plain: bytes) -> bytes:
        return self._cipher.encrypt(
            _nonce(blob.nonce_prefix, index), plain, _associated_data(blob.id, index, last)
        )

    def _open(self, blob: BlobInfo, index: int, sealed: bytes) -> bytes:
        last = index == blob.chunk_count - 1
        try:
            return self._cipher.decrypt(
                _nonce(blob.nonce_prefix, index), sealed, _associated_data(blob.id, index, last)
            )
        except InvalidTag:
            raise BlobCorrupt(
                f"Stored data {blob.id} failed its integrity check at part {index}; "
                "it was altered or the server secret changed."
            ) from None

    async def _new_blob(self, kind: str) -> BlobInfo:
        async with self.db.session() as session, session.begin():
            return await self._insert_blob(session, kind, 0, 0, complete=False)

    async def _insert_blob(
        self, session: AsyncSession, kind: str, size: int, chunk_count: int, *, complete: bool
    ) -> BlobInfo:
        prefix = os.urandom(8)
        blob_id = await session.scalar(
            insert(_BLOBS)
            .values(
                kind=kind,
                size=size,
                chunk_size=self.chunk_size,
                chunk_count=chunk_count,
                nonce_prefix=prefix,
                complete=complete,
            )
            .returning(_BLOBS.c.id)
        )
        assert blob_id is not None
        return BlobInfo(blob_id, size, self.chunk_size, chunk_count, prefix, complete)

    async def write_small(self, session: AsyncSession, data: bytes, kind: str) -> int:
        """Store a small blob, complete, in the caller's transaction; returns its id.

        For data up to SMALL_BLOB_LIMIT bytes, which is sealed in the event loop: it takes
        less time than handing it to a thread.
        """
        if len(data) > SMALL_BLOB_LIMIT:
            raise ValueError(f"write_small takes at most {SMALL_BLOB_LIMIT} bytes")
        pieces = [data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size)]
        pieces = pieces or [b""]
        blob = await self._insert_blob(session, kind, len(data), len(pieces), complete=True)
        last = len(pieces) - 1
        await session.execute(
            insert(_CHUNKS),
            [
                {
                    "blob_id": blob.id,
                    "index": index,
                    "data": self._seal(blob, index, index == last, piece),
                }
                for index, piece in enumerate(pieces)
            ],
        )
        return blob.id

    async def write_file(self, path: Path, kind: str) -> int:
        """Encrypt a file into a new, not yet complete blob; returns its id.

        The caller marks it complete with ``mark_complete`` in the transaction that stores the
        reference to it, or removes it with ``discard`` if that fails.
        """
        with path.open("rb") as handle:
            return await self._write(kind, lambda: handle.read(self.chunk_size))

    async def write_bytes(self, data: bytes, kind: str) -> int:
        """Encrypt bytes into a new, not yet complete blob; returns its id."""
        pieces = iter([data[i : i + self.chunk_size] for i in range(0, len(data), self.chunk_size)])
        return await self._write(kind, lambda: next(pieces, b""))

    async def _write(self, kind: str, read: Callable[[], bytes]) -> int:
        blob = await self._new_blob(kind)
        try:
            size, count = await self._write_chunks(blob, read)
            async with self.db.session() as session, session.begin():
                await session.execute(
                    update(Blob).where(Blob.id == blob.id).values(size=size, chunk_count=count)
                )
        except BaseException:
            await asyncio.shield(self.discard(blob.id))
            raise
        return blob.id

    async def _write_chunks(self, blob: BlobInfo, read: Callable[[], bytes]) -> tuple[int, int]:
        def seal_next(current: bytes, index: int) -> tuple[bytes, bytes]:
            # Read one chunk ahead: a chunk is sealed as "last" only when nothing follows it.
            following = read()
            return self._seal(blob, index, not following, current), following

        size = index = 0
        current = await asyncio.to_thread(read)
        while True:
            batch: list[dict[str, object]] = []
            following = b""
            while len(batch) < CHUNKS_PER_TRANSACTION:
                sealed, following = await asyncio.to_thread(seal_next, current, index)
                batch.append({"blob_id": blob.id, "index": index, "data": sealed})
                size += len(current)
                index += 1
                current = following
                if not following:
                    break
            async with self.db.session() as session, session.begin():
                await session.execute(insert(BlobChunk), batch)
            if not following:
                return size, index

    async def read(
        self,
        blob_id: int,
        start: int = 0,
        end: int | None = None,
        *,
        blob: BlobInfo | None = None,
        prefetched: dict[int, bytes] | None = None,
    ) -> AsyncIterator[bytes]:
        """The plaintext bytes ``start`` to ``end`` (exclusive), one chunk at a time.

        Each chunk is fetched in its own short session, so a slow download holds no connection.
        ``blob`` is the blob's description and ``prefetched`` sealed chunks by index (see
        ``sealed_chunk``), if the caller already read them.
        """
        if blob is None:
            blob = await self.describe(blob_id)
        stop = blob.size if end is None else min(end, blob.size)
        if start >= stop:
            return
        first = start // blob.chunk_size
        last = (stop - 1) // blob.chunk_size
        for index in range(first, last + 1):
            sealed = (prefetched or {}).get(index)
            if sealed is None:
                async with self.db.session() as session:
                    sealed = await sealed_chunk(session, blob_id, index)
            if sealed is None:
                raise BlobCorrupt(f"Stored data {blob_id} is missing part {index}.")
            if len(sealed) > SMALL_BLOB_LIMIT:
                plain = await asyncio.to_thread(self._open, blob, index, sealed)
            else:
                plain = self._open(blob, index, sealed)
            offset = index * blob.chunk_size
            yield plain[max(start - offset, 0) : stop - offset]

    async def read_all(self, blob_id: int) -> bytes:
        """The whole blob; for small blobs such as transcripts."""
        return b"".join([piece async for piece in self.read(blob_id)])

    async def describe(self, blob_id: int) -> BlobInfo:
        """The blob's description; raises BlobMissing for an unknown or unfinished blob."""
        async with self.db.session() as session:
            return await describe_in(session, blob_id)

    async def discard(self, blob_id: int) -> None:
        """Delete a blob that nothing references yet (a failed upload)."""
        async with self.db.session() as session, session.begin():
            await _delete_blob(session, blob_id)


async def mark_complete(session: AsyncSession, blob_id: int) -> None:
    """Mark a written blob complete, in the transaction that stores a reference to it."""
    result = await session.execute(
        update(_BLOBS).where(_BLOBS.c.id == blob_id).values(complete=True)
    )
    if not getattr(result, "rowcount", 0):
        raise BlobMissing("The stored file no longer exists.")


async def _delete_blob(session: AsyncSession, blob_id: int) -> None:
    # Chunks go first explicitly: SQLite only cascades with foreign keys on, and a big blob's
    # chunks should not depend on that.
    await session.execute(delete(BlobChunk).where(BlobChunk.blob_id == blob_id))
    await session.execute(delete(Blob).where(Blob.id == blob_id))


def _referenced(blob_id: int) -> Exists:
    return exists().where(or_(Job.audio_blob_id == blob_id, Job.transcript_blob_id == blob_id))


async def release(session: AsyncSession, blob_id: int | None) -> bool:
    """Delete a blob if no job references it any more; True if it was deleted.

    Call after clearing (or deleting) the caller's reference, in the same transaction: a blob
    shared by a job and its retry survives until the last of them lets go.
    """
    if blob_id is None:
        return False
    await session.flush()
    if await session.scalar(select(_referenced(blob_id))):
        return False
    await _delete_blob(session, blob_id)
    return True


async def delete_abandoned(db: Database, older_than: timedelta) -> int:
    """Delete incomplete blobs older than ``older_than`` (writers that died mid-way)."""
    cutoff = utcnow() - older_than
    async with db.write_session() as session, session.begin():
        ids = list(
            await session.scalars(
                select(Blob.id).where(Blob.complete.is_(False), Blob.created_at < cutoff)
            )
        )
        for blob_id in ids:
            await _delete_blob(session, blob_id)
    return len(ids)


async def delete_unreferenced(db: Database, batch: int = 500) -> int:
    """Delete complete blobs no job references any more (e.g. the jobs of a deleted account).

    A blob becomes complete only in the transaction that stores its first reference, so a
    complete blob without one is garbage.
    """
    deleted = 0
    while True:
        async with db.write_session() as session, session.begin():
            ids = list(
                await session.scalars(
                    select(Blob.id)
                    .where(Blob.complete.is_(True), ~_referenced_by_any_job())
                    .limit(batch)
                )
            )
            for blob_id in ids:
                await _delete_blob(session, blob_id)
        deleted += len(ids)
        if len(ids) < batch:
            return deleted


def _referenced_by_any_job() -> Exists:
    return exists().where(or_(Job.audio_blob_id == Blob.id, Job.transcript_blob_id == Blob.id))
