"""All tables. Importing this module registers every model on `Base.metadata`."""

from projectw.db.base import Base
from projectw.db.models.accounts import AuthToken, LinkToken, OutboxMail
from projectw.db.models.blobs import Blob, BlobChunk
from projectw.db.models.jobs import Event, Job
from projectw.db.models.runners import Runner
from projectw.db.models.users import Identity, User

__all__ = [
    "AuthToken",
    "Base",
    "Blob",
    "BlobChunk",
    "Event",
    "Identity",
    "Job",
    "LinkToken",
    "OutboxMail",
    "Runner",
    "User",
]
