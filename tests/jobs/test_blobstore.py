"""Encrypted blobs: round trips, ranges, tamper detection, shared references, sweeping."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from projectw.db.engine import Database
from projectw.db.models import Blob, BlobChunk, Job
from projectw.jobs.blobstore import (
    BlobCorrupt,
    BlobMissing,
    BlobStore,
    delete_abandoned,
    mark_complete,
    release,
)


async def _stored(store: BlobStore, data: bytes) -> int:
    blob_id = await store.write_bytes(data, "audio")
    async with store.db.session() as session, session.begin():
        await mark_complete(session, blob_id)
    return blob_id


async def _chunk_rows(db: Database, blob_id: int) -> list[BlobChunk]:
    async with db.session() as session:
        rows = await session.scalars(
            select(BlobChunk).where(BlobChunk.blob_id == blob_id).order_by(BlobChunk.index)
        )
        return list(rows)


@pytest.mark.parametrize("size", [0, 1, 999, 1000, 1001, 3500, 8000, 9001])
async def test_round_trip_of_any_size(store: BlobStore, size: int) -> None:
    data = os.urandom(size)
    blob_id = await _stored(store, data)
    assert await store.read_all(blob_id) == data
    blob = await store.describe(blob_id)
    assert blob.size == size
    assert blob.chunk_count == max(1, -(-size // 1000))


async def test_write_file_streams_a_file(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(12_345)
    path = tmp_path / "input.bin"
    path.write_bytes(data)
    blob_id = await store.write_file(path, "audio")
    async with store.db.session() as session, session.begin():
        await mark_complete(session, blob_id)
    assert await store.read_all(blob_id) == data


async def test_ranges_return_exactly_the_requested_bytes(store: BlobStore) -> None:
    data = os.urandom(4321)
    blob_id = await _stored(store, data)
    for start, end in [(0, 1), (999, 1001), (1000, 2000), (17, 4321), (4000, 9999), (2500, 2501)]:
        got = b"".join([piece async for piece in store.read(blob_id, start, end)])
        assert got == data[start:end], (start, end)
    assert [piece async for piece in store.read(blob_id, 5000, 6000)] == []


async def test_nothing_readable_is_stored(store: BlobStore) -> None:
    data = b"a secret conversation " * 200
    blob_id = await _stored(store, data)
    for row in await _chunk_rows(store.db, blob_id):
        assert b"secret" not in row.data


async def test_a_changed_byte_is_detected(store: BlobStore) -> None:
    blob_id = await _stored(store, os.urandom(2500))
    row = (await _chunk_rows(store.db, blob_id))[1]
    damaged = bytes([row.data[0] ^ 1]) + row.data[1:]
    async with store.db.session() as session, session.begin():
        await session.execute(
            update(BlobChunk)
            .where(BlobChunk.blob_id == blob_id, BlobChunk.index == 1)
            .values(data=damaged)
        )
    with pytest.raises(BlobCorrupt, match="integrity check at part 1"):
        await store.read_all(blob_id)
    # The first chunk is intact and still readable on its own.
    assert len(b"".join([p async for p in store.read(blob_id, 0, 1000)])) == 1000


async def test_swapped_chunks_are_detected(store: BlobStore) -> None:
    blob_id = await _stored(store, os.urandom(2500))
    first, second, _third = await _chunk_rows(store.db, blob_id)
    async with store.db.session() as session, session.begin():
        for index, data in ((0, second.data), (1, first.data)):
            await session.execute(
                update(BlobChunk)
                .where(BlobChunk.blob_id == blob_id, BlobChunk.index == index)
                .values(data=data)
            )
    with pytest.raises(BlobCorrupt):
        await store.read_all(blob_id)


async def test_a_truncated_blob_is_detected(store: BlobStore) -> None:
    blob_id = await _stored(store, os.urandom(2500))
    async with store.db.session() as session, session.begin():
        await session.execute(
            BlobChunk.__table__.delete().where(BlobChunk.blob_id == blob_id, BlobChunk.index == 2)
        )
        await session.execute(
            update(Blob).where(Blob.id == blob_id).values(chunk_count=2, size=2000)
        )
    with pytest.raises(BlobCorrupt):
        await store.read_all(blob_id)


async def test_a_missing_middle_chunk_is_reported(store: BlobStore) -> None:
    blob_id = await _stored(store, os.urandom(2500))
    async with store.db.session() as session, session.begin():
        await session.execute(
            BlobChunk.__table__.delete().where(BlobChunk.blob_id == blob_id, BlobChunk.index == 1)
        )
    with pytest.raises(BlobCorrupt, match="missing part 1"):
        await store.read_all(blob_id)


async def test_another_secret_cannot_read(store: BlobStore, db: Database) -> None:
    blob_id = await _stored(store, b"hello")
    other = BlobStore(db, os.urandom(32), chunk_size=1000)
    with pytest.raises(BlobCorrupt, match="server secret"):
        await other.read_all(blob_id)


async def test_an_unfinished_blob_is_not_readable(store: BlobStore) -> None:
    blob_id = await store.write_bytes(b"partial", "audio")
    with pytest.raises(BlobMissing):
        await store.read_all(blob_id)


async def _job(db: Database, user_id: int, audio_blob_id: int) -> int:
    async with db.session() as session, session.begin():
        job = Job(user_id=user_id, settings={}, file_name="a.wav", audio_blob_id=audio_blob_id)
        session.add(job)
    return job.id


async def test_a_shared_blob_lives_until_its_last_reference_goes(
    store: BlobStore, db: Database, user_id: int
) -> None:
    blob_id = await _stored(store, os.urandom(1500))
    original = await _job(db, user_id, blob_id)
    retry = await _job(db, user_id, blob_id)
    async with db.session() as session, session.begin():
        job = await session.get(Job, original)
        assert job is not None
        job.audio_blob_id = None
        assert await release(session, blob_id) is False
    assert await store.read_all(blob_id)
    async with db.session() as session, session.begin():
        job = await session.get(Job, retry)
        assert job is not None
        await session.delete(job)
        assert await release(session, blob_id) is True
    with pytest.raises(BlobMissing):
        await store.read_all(blob_id)
    async with db.session() as session:
        assert await session.scalar(select(func.count()).select_from(BlobChunk)) == 0


async def test_abandoned_blobs_are_swept(store: BlobStore, db: Database) -> None:
    finished = await _stored(store, b"kept")
    abandoned = await store.write_bytes(b"left behind", "audio")
    assert await delete_abandoned(db, timedelta(hours=1)) == 0
    assert await delete_abandoned(db, timedelta(seconds=-1)) == 1
    async with db.session() as session:
        assert await session.get(Blob, abandoned) is None
        assert await session.get(Blob, finished) is not None
