"""Project-W: a self-hosted transcription service."""

__version__ = "0.1.0"
