"""Encrypted binary objects (audio, transcripts) stored in the database in chunks.

Keeping blobs in the database means every server instance of a cluster can serve any job's
audio with no shared volume, and one backup holds everything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from projectw.db.base import Base, UTCDateTime, utcnow


class Blob(Base):
    __tablename__ = "blobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    chunk_size: Mapped[int] = mapped_column(Integer)
    chunk_count: Mapped[int] = mapped_column(Integer, default=0)
    nonce_prefix: Mapped[bytes] = mapped_column(LargeBinary(8))
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class BlobChunk(Base):
    __tablename__ = "blob_chunks"

    blob_id: Mapped[int] = mapped_column(
        ForeignKey("blobs.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)
