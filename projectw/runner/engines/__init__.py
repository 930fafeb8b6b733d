"""Transcription engines: dummy (tests), faster-whisper (default), whisperx (extra)."""
