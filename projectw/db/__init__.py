"""Durable data: typed SQLAlchemy models, the engine, and migrations."""
