"""Settings: one pydantic model, loaded from defaults < YAML file < environment < CLI flags.

Every field carries a help text; the README's configuration reference is checked against this
model by a test, so the two cannot drift.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from projectw.errors import ConfigError
from projectw.paths import Paths, resolve_paths

ENV_PREFIX = "PROJECTW_"
# Environment variables read by CLI options rather than by the settings model.
CLI_ENV_VARS = frozenset({"PROJECTW_CONFIG", "PROJECTW_RUNNER_TOKEN", "PROJECTW_RUNNER_URL"})

Source = Literal["default", "file", "env", "cli"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class RateLimitSettings(_Section):
    """How many attempts one client address or one account may make per window."""

    window_seconds: int = Field(
        900, ge=1, le=86400, description="Length of the rate-limit window in seconds."
    )
    login_per_address: int = Field(
        30, ge=1, description="Sign-in attempts allowed from one client address per window."
    )
    login_failures_per_account: int = Field(
        10,
        ge=1,
        description="Failed sign-ins allowed for one e-mail address per window; more are "
        "refused (429) until the window ends, even with the right password.",
    )
    signup_per_address: int = Field(
        10, ge=1, description="Sign-ups allowed from one client address per window."
    )
    mail_requests_per_address: int = Field(
        10,
        ge=1,
        description="Requests that send mail (verification, password reset, e-mail change) "
        "allowed from one client address per window.",
    )
    mail_requests_per_account: int = Field(
        5,
        ge=1,
        description="Requests that send mail allowed for one account or address per window.",
    )
    link_uses_per_address: int = Field(
        30,
        ge=1,
        description="Attempts to use a setup, verification or reset link from one client "
        "address per window.",
    )


class AuthSettings(_Section):
    """Local accounts: who may sign up, how long sessions and links last, rate limits."""

    signup: Literal["open", "domains", "invite", "disabled"] = Field(
        "invite",
        description="Who may create an account: `open` (anyone), `domains` (addresses in "
        "allowed_email_domains), `invite` (only admins create accounts) or `disabled` "
        "(nobody, not even admins through the API; the CLI still can).",
    )
    allowed_email_domains: list[str] = Field(
        default_factory=list,
        description="E-mail domains allowed to sign up when signup is `domains`, e.g. "
        "[example.org]. Subdomains must be listed on their own.",
    )
    require_email_verification: bool | None = Field(
        None,
        description="Users must confirm their e-mail address before they can submit work. "
        "Unset: required exactly when SMTP is configured.",
    )
    session_idle_hours: float = Field(
        336,
        gt=0,
        le=24 * 366,
        description="A browser session ends after this many hours without use (default 14 "
        "days); every use extends it.",
    )
    session_max_days: float = Field(
        90,
        gt=0,
        le=3660,
        description="A browser session ends this many days after sign-in, however often used.",
    )
    verification_link_hours: float = Field(
        48, gt=0, le=24 * 30, description="Hours an e-mail verification link stays valid."
    )
    reset_link_minutes: float = Field(
        60, gt=0, le=24 * 60, description="Minutes a password reset link stays valid."
    )
    invite_link_hours: float = Field(
        168,
        gt=0,
        le=24 * 30,
        description="Hours the link in an invitation (an account an admin created without a "
        "password) stays valid.",
    )
    setup_link_hours: float = Field(
        24,
        gt=0,
        le=24 * 30,
        description="Hours the one-time setup link printed on first start stays valid.",
    )
    fast_password_hashing_for_tests: bool = Field(
        False,
        description="For test suites only: hash passwords with the lowest argon2 cost so "
        "tests run fast. Never enable it on a server that holds real accounts.",
    )
    rate_limits: RateLimitSettings = Field(
        default_factory=RateLimitSettings, description="Rate limits on sign-in, sign-up and mail."
    )

    @field_validator("allowed_email_domains")
    @classmethod
    def _normalise_domains(cls, value: list[str]) -> list[str]:
        domains = [domain.strip().lower().lstrip("@") for domain in value]
        for domain in domains:
            if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", domain):
                raise ValueError(f"{domain!r} is not a domain name")
        return domains

    @model_validator(mode="after")
    def _domains_needed(self) -> AuthSettings:
        if self.signup == "domains" and not self.allowed_email_domains:
            raise ValueError("signup `domains` needs at least one entry in allowed_email_domains")
        return self


class SmtpSettings(_Section):
    """The mail server Project-W sends verification, reset and invitation mail through."""

    host: str | None = Field(
        None,
        description="Mail server host name. Unset: no mail is sent and features that "
        "need mail say so.",
    )
    port: int | None = Field(
        None,
        ge=1,
        le=65535,
        description="Mail server port. Default: 587 for starttls, 465 for tls, 25 for plain.",
    )
    security: Literal["starttls", "tls", "plain"] = Field(
        "starttls",
        description="`starttls` (upgrade a plain connection, port 587), `tls` (TLS from the "
        "start, port 465) or `plain` (no encryption; only for a relay on the same host).",
    )
    username: str | None = Field(None, description="User name to log in with, if any.")
    password: SecretStr | None = Field(None, description="Password to log in with, if any.")
    sender: str | None = Field(
        None,
        description="From address, e.g. `Project-W <transcripts@example.org>`. Required when "
        "host is set.",
    )
    ca_file: Path | None = Field(
        None,
        description="PEM file of certificate authorities to trust for the mail server, in "
        "addition to the system ones (for a private CA).",
    )
    timeout_seconds: float = Field(
        30, gt=0, le=600, description="Seconds to wait for the mail server before retrying."
    )
    max_attempts: int = Field(
        8,
        ge=1,
        le=100,
        description="Attempts to send one message before giving up; waits grow from 30 "
        "seconds to an hour between attempts.",
    )
    poll_seconds: float = Field(
        10,
        gt=0,
        le=3600,
        description="Seconds between two looks at the outbox for mail queued by another "
        "server instance or due for a retry.",
    )

    @property
    def configured(self) -> bool:
        return self.host is not None

    @property
    def effective_port(self) -> int:
        if self.port is not None:
            return self.port
        return {"starttls": 587, "tls": 465, "plain": 25}[self.security]

    @model_validator(mode="after")
    def _sender_needed(self) -> SmtpSettings:
        if self.host is not None and not self.sender:
            raise ValueError("smtp.sender is required when smtp.host is set")
        if self.sender is not None and not re.search(r"[^@\s<]+@[^@\s>]+", self.sender):
            raise ValueError("smtp.sender must contain an e-mail address")
        if (self.username is None) != (self.password is None):
            raise ValueError("smtp.username and smtp.password must be set together")
        return self


class TermsDocument(_Section):
    """One document users must accept (terms of service, privacy notice, ...)."""

    id: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$",
        description="Stable identifier, e.g. `terms` or `privacy` (lower case, digits, - and _).",
    )
    name: str = Field(min_length=1, max_length=200, description="Title shown to users.")
    version: int = Field(
        ge=1, description="Raise it when the text changes: everyone is asked to accept again."
    )
    text: str | None = Field(None, description="The document (Markdown), given inline.")
    file: Path | None = Field(None, description="A file holding the document (Markdown).")

    @model_validator(mode="after")
    def _text_or_file(self) -> TermsDocument:
        if (self.text is None) == (self.file is None):
            raise ValueError(f"terms document {self.id!r} needs exactly one of text and file")
        if self.file is not None and not self.file.is_file():
            raise ValueError(f"terms document {self.id!r}: file {self.file} does not exist")
        return self


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
        description="Seconds between heartbeats while a job runs (they carry its progress and "
        "learn about aborts), and between polls when `long_poll_seconds` is 0.",
    )
    shutdown_grace_seconds: float = Field(
        30,
        ge=0,
        description="On SIGTERM a runner takes no new work and lets its current job finish "
        "for this long; then it stops the job and hands it back to the queue.",
    )
    dummy_seconds_per_audio_second: float = Field(
        0.05,
        ge=0,
        description="Engine `dummy` only: working time per second of audio (0.05 = 20 times "
        "faster than real time; 0 = instant).",
    )


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


class Settings(_Section):
    """Everything that configures a Project-W server."""

    host: str = Field(
        "127.0.0.1",
        description="Address to listen on. Use 0.0.0.0 to accept connections from other machines.",
    )
    port: int = Field(5000, ge=0, le=65535, description="TCP port; 0 picks a free port.")
    public_url: str | None = Field(
        None,
        description="URL under which users reach this server, used in e-mails and printed links. "
        "Defaults to http://HOST:PORT.",
    )
    data_dir: Path | None = Field(
        None,
        description="Folder for the database, secret key, cache and logs. "
        "Defaults to the platform data dir (see `projectw paths`).",
    )
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL of the database: sqlite+aiosqlite:///PATH or "
        "postgresql+asyncpg://USER:PASSWORD@HOST:PORT/DB. Defaults to SQLite in the data dir.",
    )
    redis_url: str | None = Field(
        None,
        description="redis://HOST:PORT/DB for shared ephemeral state in cluster mode. "
        "Unset: state is kept in process memory (appliance).",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Server secret (at least 32 characters) from which encryption and signing "
        "keys are derived. Unset: generated on first start into DATA_DIR/secret_key.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Lowest level of log messages written."
    )
    log_format: Literal["text", "json"] = Field(
        "text", description="Log lines as readable text or as one JSON object per line."
    )
    shutdown_timeout: float = Field(
        10.0,
        gt=0,
        le=600,
        description="Seconds to wait for requests and background work to finish on shutdown.",
    )
    migrate_on_start: bool = Field(
        True, description="Apply database migrations when the server starts."
    )
    auth: AuthSettings = Field(
        default_factory=AuthSettings, description="Local accounts, sessions and rate limits."
    )
    smtp: SmtpSettings = Field(default_factory=SmtpSettings, description="Outgoing mail.")
    tos: list[TermsDocument] = Field(
        default_factory=list,
        description="Documents (terms of service, privacy notice) every user must accept in "
        "their current version before submitting work.",
    )
    runner: RunnerSettings = Field(
        default_factory=RunnerSettings, description="The embedded runner."
    )
    queue: QueueSettings = Field(
        default_factory=QueueSettings, description="Job queue: leases, retries, long polls."
    )
    jobs: JobsSettings = Field(
        default_factory=JobsSettings, description="Uploads, job defaults and retention."
    )

    @field_validator("tos")
    @classmethod
    def _unique_tos_ids(cls, value: list[TermsDocument]) -> list[TermsDocument]:
        ids = [document.id for document in value]
        if len(ids) != len(set(ids)):
            raise ValueError("terms document ids must be unique")
        return value

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return normalise_database_url(value).render_as_string(hide_password=False)

    @field_validator("redis_url")
    @classmethod
    def _check_redis_url(cls, value: str | None) -> str | None:
        if value is not None and not re.match(r"^rediss?://", value):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @property
    def paths(self) -> Paths:
        return resolve_paths(self.data_dir)

    @property
    def effective_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.paths.data_dir / 'projectw.db'}"

    @property
    def mode(self) -> Literal["appliance", "cluster"]:
        return "cluster" if self.redis_url else "appliance"

    def base_url(self, port: int | None = None) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{port if port is not None else self.port}"


_PLACEHOLDER_SECRETS = {"changeme", "changethis", "secret", "password", "replaceme", "xxx"}


def check_secret(value: str) -> None:
    """Refuse empty, placeholder or short secrets."""
    stripped = value.strip()
    if not stripped:
        raise ValueError("must not be empty")
    lowered = re.sub(r"[^a-z]", "", stripped.lower())
    if lowered in _PLACEHOLDER_SECRETS or stripped.startswith("<") or len(set(stripped)) < 8:
        raise ValueError("looks like a placeholder; set a long random value")
    if len(stripped) < 32:
        raise ValueError("must be at least 32 characters long")


def normalise_database_url(value: str) -> URL:
    """Parse a database URL and pick the async driver Project-W uses for its backend."""
    try:
        url = make_url(value)
    except ArgumentError as exc:
        raise ValueError(f"is not a valid database URL ({value!r})") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("a SQLite URL needs a file path, e.g. sqlite+aiosqlite:///data.db")
        return url.set(drivername="sqlite+aiosqlite")
    if backend in ("postgresql", "postgres"):
        if not url.host and not url.query.get("host"):
            raise ValueError("a PostgreSQL URL needs a host")
        return url.set(drivername="postgresql+asyncpg")
    raise ValueError(f"unsupported database {backend!r}; use sqlite or postgresql")


# --- loading ---------------------------------------------------------------------------------

_ENV_PATTERN = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}")


class _EnvLoader(yaml.SafeLoader):
    """YAML loader that understands `!ENV ${VAR}` and `!ENV ${VAR:default}`."""


def _construct_env(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    raw = loader.construct_scalar(node)  # type: ignore[arg-type]

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ConfigError(f"environment variable {name} is not set (used in the config file)")

    substituted = _ENV_PATTERN.sub(substitute, str(raw))
    return yaml.safe_load(substituted) if substituted.strip() else None


_EnvLoader.add_constructor("!ENV", _construct_env)


def read_config_file(path: Path) -> dict[str, Any]:
    """Parse a YAML config file; an empty file is an empty mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    try:
        data = yaml.load(text, Loader=_EnvLoader)
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must contain a mapping of settings")
    return data


def _model_for_path(path: list[str]) -> type[BaseModel] | None:
    """The section model a dotted path leads to, or None if the path is unknown."""
    model: type[BaseModel] = Settings
    for part in path[:-1]:
        info = model.model_fields.get(part)
        annotation = info.annotation if info else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return None
        model = annotation
    return model if path[-1] in model.model_fields else None


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """Collect PROJECTW_* variables into a nested mapping; unknown names are an error."""
    result: dict[str, Any] = {}
    for name, value in sorted(environ.items()):
        if not name.startswith(ENV_PREFIX) or name in CLI_ENV_VARS:
            continue
        path = name[len(ENV_PREFIX) :].lower().split("__")
        if _model_for_path(path) is None:
            raise ConfigError(f"unknown setting in environment variable {name}")
        parsed: Any = value
        if value[:1] in ("[", "{"):
            try:
                parsed = json.loads(value)
            except json.JSONDecodeError:
                raise ConfigError(f"environment variable {name} is not valid JSON") from None
        node = result
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = parsed
    return result


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _leaf_paths(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    paths: set[str] = set()
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        paths.add(dotted)
        if isinstance(value, Mapping):
            paths |= _leaf_paths(value, dotted + ".")
    return paths


def _describe_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    if first["type"] == "extra_forbidden":
        return f"unknown setting {location!r}"
    message = str(first["msg"]).removeprefix("Value error, ")
    return f"setting {location!r}: {message}"


@dataclass
class LoadedSettings:
    """Settings plus where each value came from."""

    settings: Settings
    config_file: Path | None
    layers: dict[Source, set[str]] = field(default_factory=dict)

    def source_of(self, dotted: str) -> Source:
        """The highest layer that set this setting or one of its enclosing sections."""
        parts = dotted.split(".")
        prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
        for source in ("cli", "env", "file"):
            if prefixes & self.layers.get(source, set()):
                return source
        return "default"


def load_settings(
    config_file: Path | str | None = None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Build the settings from every source, lowest to highest precedence."""
    environ = os.environ if environ is None else environ
    cli_values = {key: value for key, value in (cli or {}).items() if value is not None}
    env_values = read_environment(environ)

    explicit = config_file or environ.get("PROJECTW_CONFIG")
    if explicit:
        path: Path | None = Path(explicit).expanduser()
        file_values = read_config_file(path)  # type: ignore[arg-type]
    else:
        data_dir = cli_values.get("data_dir") or env_values.get("data_dir")
        candidate = resolve_paths(data_dir).config_file
        path = candidate if candidate.is_file() else None
        file_values = read_config_file(candidate) if path else {}

    merged = _deep_merge(_deep_merge(file_values, env_values), cli_values)
    try:
        settings = Settings.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(_describe_error(exc)) from None
    layers: dict[Source, set[str]] = {
        "file": _leaf_paths(file_values),
        "env": _leaf_paths(env_values),
        "cli": _leaf_paths(cli_values),
    }
    return LoadedSettings(settings=settings, config_file=path, layers=layers)


def iter_fields(model: type[BaseModel] = Settings, prefix: str = "") -> list[tuple[str, str, Any]]:
    """Every leaf setting as (dotted name, help text, default), for docs and `config show`."""
    rows: list[tuple[str, str, Any]] = []
    for name, info in model.model_fields.items():
        annotation = info.annotation
        dotted = f"{prefix}{name}"
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            rows.extend(iter_fields(annotation, dotted + "."))
        else:
            default = info.get_default(call_default_factory=True)
            rows.append((dotted, info.description or "", default))
    return rows
