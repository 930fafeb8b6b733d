"""The e-mail a user gets when a job that asked for it finishes."""

from __future__ import annotations

from projectw.config import Settings
from projectw.db.models import Job
from projectw.mail import Message


def finished_message(settings: Settings, job: Job) -> Message:
    """Subject and body telling the owner how their job ended."""
    link = f"{settings.base_url()}/"
    if job.status == "succeeded":
        subject = f"Transcript ready: {job.file_name}"
        text = (
            f"The transcription of {job.file_name} has finished.\n\n"
            f"Open Project-W to read or download it: {link}\n"
        )
    else:
        reason = job.error_message or "no reason was given"
        subject = f"Transcription failed: {job.file_name}"
        text = (
            f"The transcription of {job.file_name} failed: {reason}\n\n"
            f"You can retry it from Project-W: {link}\n"
        )
    return Message(subject=subject, text=text)
