"""Settings: one pydantic model, loaded from defaults < YAML file < environment < CLI flags.

Every field carries a help text; the README's configuration reference is checked against this
model by a test, so the two cannot drift.
"""

from __future__ import annotations

from projectw.config.accounts import (
    AuthSettings,
    RateLimitSettings,
    SmtpSettings,
    TermsDocument,
)
from projectw.config.loading import (
    CLI_ENV_VARS,
    ENV_PREFIX,
    LoadedSettings,
    Source,
    iter_fields,
    load_settings,
    read_config_file,
    read_environment,
)
from projectw.config.settings import Settings, check_secret, normalise_database_url
from projectw.config.work import JobsSettings, QueueSettings, RunnerSettings

__all__ = [
    "CLI_ENV_VARS",
    "ENV_PREFIX",
    "AuthSettings",
    "JobsSettings",
    "LoadedSettings",
    "QueueSettings",
    "RateLimitSettings",
    "RunnerSettings",
    "Settings",
    "SmtpSettings",
    "Source",
    "TermsDocument",
    "check_secret",
    "iter_fields",
    "load_settings",
    "normalise_database_url",
    "read_config_file",
    "read_environment",
]
