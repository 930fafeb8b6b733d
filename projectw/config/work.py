"""Settings sections for the work: runners, the queue, jobs."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import (
    Field,
    SecretStr,
    field_validator,
)

from projectw.config.base import _Section


class RunnerSettings(_Section):
    """The transcription runner: embedded in the server, or `projectw runner` on another machine."""

    embedded: bool = Field(
        True,
        description="Run a transcription runner inside the server process (the appliance). "
        "Turn off when remote runners do the work.",
    )
    # Engine and models (faster-whisper, whisperx).
    model_paths: dict[str, Path] = Field(
        default_factory=dict,
        description="Model folders by model name, e.g. {tiny.en: /srv/models/tiny.en}; looked "
        "up before the models folder (DATA_DIR/models/NAME) and the download cache.",
    )
    preload_models: list[str] = Field(
        default_factory=list,
        description="Models loaded when the engine starts, so that the first job does not wait "
        "for them.",
    )
    offline: bool = Field(
        False,
        description="Never download models from the model hub; a model that is not on this "
        "machine is reported at start-up and in /api/about, and jobs needing it fail at once.",
    )
    hub_url: str | None = Field(
        None,
        description="Address of the model hub that missing models are downloaded from, e.g. a "
        "Hugging Face mirror or an in-house proxy; unset uses `HF_ENDPOINT` or "
        "https://huggingface.co.",
    )
    device: Literal["auto", "cpu", "cuda"] = Field(
        "auto", description="Where models run: `auto` uses a CUDA GPU when present, else the CPU."
    )
    compute_type: Literal[
        "auto", "int8", "int8_float16", "int8_float32", "int8_bfloat16", "int16", "float16",
        "bfloat16", "float32",
    ] = Field(
        "auto",
        description="Numeric precision of the model: `auto` is float16 on a GPU and int8 on "
        "the CPU.",
    )  # fmt: skip
    cpu_threads: int = Field(
        0, ge=0, le=1024, description="CPU threads for transcription; 0 uses every core."
    )
    batch_size: int = Field(
        1,
        ge=1,
        le=256,
        description="Speech chunks decoded at once. Above 1, faster-whisper uses its batched "
        "pipeline (faster on a GPU, more memory); whisperx always batches.",
    )
    hf_token: SecretStr | None = Field(
        None,
        description="Hugging Face access token for the gated pyannote diarization models "
        "(whisperx engine); without it diarization is not offered.",
    )
    warm_models_memory_mb: int = Field(
        4096,
        ge=0,
        description="Memory in MiB that loaded models may take between jobs; the least "
        "recently used are unloaded first when it is exceeded.",
    )
    model_idle_unload_minutes: float = Field(
        30,
        ge=0,
        description="Minutes a loaded model may stay unused before it is unloaded; 0 keeps "
        "models loaded.",
    )
    engine_niceness: int = Field(
        10,
        ge=0,
        le=19,
        description="Scheduling niceness of the engine process (0-19): above 0, the web app "
        "and API get the CPU first while a transcription runs on the same machine.",
    )
    engine: str = Field(
        "faster-whisper",
        min_length=1,
        description="Transcription engine: `faster-whisper` (default, CPU or CUDA), `whisperx` "
        "(extra `projectw[whisperx]`: alignment and diarization), `dummy` (no real "
        "transcription: a fixed text spread over the recording, for tests), or "
        "`module:factory` for an engine of your own.",
    )
    name: str | None = Field(
        None,
        max_length=40,
        description="Name the runner registers with, shown to admins. Defaults to `embedded` "
        "inside the server and to the host name for `projectw runner`.",
    )
    priority: int = Field(
        100,
        gt=0,
        description="Runners with a higher priority get work first (e.g. the faster machine).",
    )
    server_url: str | None = Field(
        None,
        description="`projectw runner` only: URL of the Project-W server to take work from "
        "(also --url or PROJECTW_RUNNER_URL).",
    )
    token: SecretStr | None = Field(
        None,
        description="`projectw runner` only: the runner token an admin created "
        "(also --token or PROJECTW_RUNNER_TOKEN).",
    )
    long_poll_seconds: float = Field(
        25,
        ge=0,
        le=50,
        description="How long an idle runner's heartbeat waits at the server for work; a new "
        "job or an abort answers it at once. 0 polls every `heartbeat_seconds` like Project-W "
        "0.6 runners.",
    )
    heartbeat_seconds: float = Field(
        1,
        gt=0,
        le=30,
        description="Seconds between heartbeats while a job runs, which carry its progress (an "
        "abort still arrives at once: each heartbeat waits at the server for one), and between "
        "polls when `long_poll_seconds` is 0.",
    )
    shutdown_grace_seconds: float = Field(
        30,
        ge=0,
        description="On SIGTERM a runner takes no new work and lets its current job finish "
        "for this long; then it stops the job and hands it back to the queue.",
    )
    abort_grace_seconds: float = Field(
        0.5,
        gt=0,
        le=30,
        description="After an abort, how long the engine may take to stop by itself before its "
        "process is killed (a new one is started at once). Engines stop between segments; a "
        "kill unloads the models, so a larger value keeps them warm at the cost of slower "
        "aborts.",
    )
    dummy_seconds_per_audio_second: float = Field(
        0.05,
        ge=0,
        description="Engine `dummy` only: working time per second of audio (0.05 = 20 times "
        "faster than real time; 0 = instant).",
    )

    @field_validator("hub_url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or value[-3:] == "://":
            raise ValueError("must be an http:// or https:// address")
        return value


class QueueSettings(_Section):
    """How jobs are handed to runners and taken back from runners that vanish."""

    lease_seconds: float = Field(
        60,
        ge=5,
        le=3600,
        description="A runner that sends no heartbeat for this long is offline; its job goes "
        "back to the queue. Project-W 0.6 runners send one every 10 s and give up after 50 s.",
    )
    max_attempts: int = Field(
        3,
        ge=1,
        description="Times a job may lose its runner (crash, kill, network gone) before it "
        "fails instead of being queued again.",
    )
    reaper_interval_seconds: float = Field(
        5,
        gt=0,
        le=600,
        description="Seconds between two checks for expired leases and runners gone offline.",
    )
    watch_interval_seconds: float = Field(
        0.05,
        gt=0,
        le=5,
        description="While runners wait for work, how often the server looks for new or "
        "aborted jobs (the time from upload to a waiting runner getting the job).",
    )


class JobsSettings(_Section):
    """Uploads, job defaults and how long recordings and results are kept."""

    max_upload_bytes: int = Field(
        2 * 1024**3,
        ge=1024,
        description="Largest recording a user may upload, in bytes (default 2 GiB). A bigger "
        "upload is stopped as soon as it passes this size and answered with 413.",
    )
    max_duration_seconds: float = Field(
        6 * 3600,
        gt=0,
        description="Longest recording accepted, in seconds (default 6 hours); longer ones are "
        "refused with 413.",
    )
    default_model: str = Field(
        "small",
        min_length=1,
        description="Whisper model a job uses when neither the job nor the user's default "
        "settings name one. `small` is a fair quality/speed trade-off on a CPU appliance.",
    )
    audio_retention_days: float | None = Field(
        7,
        gt=0,
        description="Days after a job finishes before its recording is deleted (the web app's "
        "player needs it until then; retrying needs it too). Null keeps recordings forever.",
    )
    job_retention_days: float | None = Field(
        90,
        gt=0,
        description="Days after a job finishes before the job and its transcript are deleted. "
        "Null keeps them forever.",
    )
    event_retention_hours: float = Field(
        24,
        gt=0,
        description="Hours live-update events are kept so that a reconnecting client can resume "
        "where it left off.",
    )
    cleanup_interval_seconds: float = Field(
        600,
        ge=1,
        description="Seconds between two runs of the retention clean-up.",
    )

    @field_validator("default_model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        from projectw.jobs.settings import MODELS

        if value not in MODELS:
            raise ValueError(f"must be one of {', '.join(MODELS)}")
        return value
