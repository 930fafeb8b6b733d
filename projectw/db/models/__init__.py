"""All tables. Importing this module registers every model on `Base.metadata`."""

from projectw.db.base import Base

__all__ = ["Base"]
