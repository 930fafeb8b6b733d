"""Whisper models: where a model name comes from, and keeping loaded models warm.

A name resolves, in order: a folder configured for it (``runner.model_paths``), a folder of
that name in the models directory, a copy downloaded earlier into the model cache, and finally
a download from the model hub into that cache (unless ``runner.offline``). Loaded models stay
in memory for the next job, least recently used first out when the memory budget is exceeded,
and are unloaded after a configurable idle time.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from projectw.runner.engines.base import EngineError

if TYPE_CHECKING:
    from projectw.config import Settings

log = logging.getLogger(__name__)

# The CTranslate2 conversions of the Whisper checkpoints on the model hub, by Project-W name.
HUB_REPOSITORIES: Mapping[str, str] = {
    "tiny": "Systran/faster-whisper-tiny",
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "base": "Systran/faster-whisper-base",
    "base.en": "Systran/faster-whisper-base.en",
    "small": "Systran/faster-whisper-small",
    "small.en": "Systran/faster-whisper-small.en",
    "medium": "Systran/faster-whisper-medium",
    "medium.en": "Systran/faster-whisper-medium.en",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large": "Systran/faster-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
}
# Files a CTranslate2 Whisper model folder needs; without tokenizer.json faster-whisper would
# fetch a tokenizer from the hub at load time, so a folder lacking it is incomplete here.
REQUIRED_FILES = ("config.json", "model.bin", "tokenizer.json")
_HUB_FILES = ["config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocab*"]
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

Source = Literal["config", "models_dir", "cache", "download"]


class ModelUnavailable(EngineError):
    """The model cannot be found locally and cannot (or may not) be downloaded."""


@dataclass(frozen=True)
class ModelSources:
    """Where models are looked for, and whether the hub may be asked."""

    model_paths: Mapping[str, Path] = field(default_factory=dict)
    models_dir: Path | None = None
    cache_dir: Path | None = None
    offline: bool = False
    hf_token: str | None = field(default=None, repr=False)
    hub_url: str | None = None


def model_sources(settings: Settings) -> ModelSources:
    """The model sources the server's settings describe (runner section and data dirs)."""
    runner = settings.runner
    token = runner.hf_token.get_secret_value() if runner.hf_token is not None else None
    return ModelSources(
        model_paths=dict(runner.model_paths),
        models_dir=settings.paths.models_dir,
        cache_dir=settings.paths.model_cache_dir,
        offline=runner.offline,
        hf_token=token,
        hub_url=runner.hub_url,
    )


@dataclass(frozen=True)
class EngineConfig:
    """How an engine runs: model sources, device, threads, batching and the warm-model cache."""

    sources: ModelSources = field(default_factory=ModelSources)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    batch_size: int = 1
    warm_memory_bytes: int = 4 * 1024**3
    idle_unload_seconds: float = 1800.0
    preload_models: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> EngineConfig:
        """Build from the engine options: the ``runner`` settings as a plain mapping, plus
        ``models_dir`` and ``model_cache_dir``; absent keys keep their defaults."""
        token = options.get("hf_token")
        if token is not None and hasattr(token, "get_secret_value"):
            token = token.get_secret_value()
        defaults = cls()
        models_dir = options.get("models_dir")
        cache_dir = options.get("model_cache_dir")
        return cls(
            sources=ModelSources(
                model_paths={
                    str(name): Path(path)
                    for name, path in (options.get("model_paths") or {}).items()
                },
                models_dir=Path(models_dir) if models_dir else None,
                cache_dir=Path(cache_dir) if cache_dir else None,
                offline=bool(options.get("offline", False)),
                hf_token=str(token) if token else None,
                hub_url=str(options["hub_url"]) if options.get("hub_url") else None,
            ),
            device=options.get("device", defaults.device),
            compute_type=str(options.get("compute_type", defaults.compute_type)),
            cpu_threads=int(options.get("cpu_threads", defaults.cpu_threads)),
            batch_size=int(options.get("batch_size", defaults.batch_size)),
            warm_memory_bytes=int(
                options.get("warm_models_memory_mb", defaults.warm_memory_bytes // 1024**2)
            )
            * 1024**2,
            idle_unload_seconds=float(
                options.get("model_idle_unload_minutes", defaults.idle_unload_seconds / 60)
            )
            * 60,
            preload_models=tuple(options.get("preload_models") or ()),
        )

    def threads(self) -> int:
        """CPU threads for inference: the configured count, or every core."""
        return self.cpu_threads or os.cpu_count() or 1


def lower_priority(niceness: int) -> None:
    """Raise this process's niceness to at least ``niceness`` (Unix; elsewhere a no-op)."""
    if niceness <= 0 or not hasattr(os, "nice"):
        return
    current = os.nice(0)
    if current < niceness:
        os.nice(niceness - current)
        log.info("engine process niceness raised", extra={"niceness": niceness})


def choose_device(device: str, compute_type: str) -> tuple[str, str]:
    """The device and compute type to load models with; ``auto`` picks CUDA when present."""
    if device == "auto":
        import ctranslate2

        device = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    if compute_type == "auto":
        compute_type = "float16" if device == "cuda" else "int8"
    return device, compute_type


@dataclass(frozen=True)
class ResolvedModel:
    """A model folder ready to load, and how it was found."""

    name: str
    path: Path
    source: Source

    def size_bytes(self) -> int:
        return folder_size(self.path)


def folder_size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def missing_files(path: Path) -> list[str]:
    """Required model files absent from ``path`` (all of them if it is no folder)."""
    if not path.is_dir():
        return list(REQUIRED_FILES)
    return [name for name in REQUIRED_FILES if not (path / name).is_file()]


class ModelStore:
    """Finds model folders by name and downloads missing ones into the cache."""

    def __init__(self, sources: ModelSources) -> None:
        self.sources = sources

    def _check_name(self, name: str) -> None:
        if not _SAFE_NAME.match(name):
            raise ModelUnavailable(f"'{name}' is not a valid model name.")

    def cache_path(self, name: str) -> Path | None:
        return self.sources.cache_dir / name if self.sources.cache_dir else None

    def local(self, name: str) -> ResolvedModel | None:
        """The model if it is on this machine; never contacts the hub."""
        configured = self.sources.model_paths.get(name)
        if configured is not None:
            path = Path(configured).expanduser()
            missing = missing_files(path)
            if missing:
                where = "does not exist" if not path.exists() else f"lacks {', '.join(missing)}"
                raise ModelUnavailable(
                    f"Model '{name}' is configured at {path} (runner.model_paths), "
                    f"but that folder {where}."
                )
            return ResolvedModel(name, path, "config")
        self._check_name(name)
        if self.sources.models_dir is not None:
            path = self.sources.models_dir / name
            if path.is_dir():
                missing = missing_files(path)
                if missing:
                    raise ModelUnavailable(
                        f"Model folder {path} is incomplete: it lacks {', '.join(missing)}."
                    )
                return ResolvedModel(name, path, "models_dir")
        cached = self.cache_path(name)
        if cached is not None and not missing_files(cached):
            return ResolvedModel(name, cached, "cache")
        return None

    def resolve(self, name: str) -> ResolvedModel:
        """The model folder for ``name``, downloading it if allowed and needed."""
        found = self.local(name)
        if found is not None:
            return found
        return self.download(name)

    def download(self, name: str) -> ResolvedModel:
        """Fetch ``name`` from the model hub into the cache, logging progress."""
        self._check_name(name)
        refusal = self._download_refusal(name)
        if refusal is not None:
            raise ModelUnavailable(refusal)
        repository = HUB_REPOSITORIES[name]
        target = self.cache_path(name)
        assert target is not None  # _download_refusal checked it
        target.parent.mkdir(parents=True, exist_ok=True)
        log.info(
            "downloading model",
            extra={"model": name, "repository": repository, "hub": self.sources.hub_url},
        )
        try:
            from huggingface_hub import snapshot_download

            snapshot_download(
                repository,
                local_dir=target,
                allow_patterns=_HUB_FILES,
                endpoint=self.sources.hub_url,
                token=self.sources.hf_token or False,
                tqdm_class=_progress_logger(name),
            )
        except Exception as exc:
            raise ModelUnavailable(
                f"Model '{name}' could not be downloaded from the model hub ({_reason(exc)})."
            ) from exc
        missing = missing_files(target)
        if missing:
            raise ModelUnavailable(
                f"The download of model '{name}' is incomplete: it lacks {', '.join(missing)}."
            )
        log.info("model downloaded", extra={"model": name, "path": str(target)})
        return ResolvedModel(name, target, "download")

    def available(self) -> list[str]:
        """Names of every model this runner can load now without a download."""
        names = set()
        for name, path in self.sources.model_paths.items():
            if not missing_files(Path(path).expanduser()):
                names.add(name)
        for folder in (self.sources.models_dir, self.sources.cache_dir):
            if folder is not None and folder.is_dir():
                for child in folder.iterdir():
                    if _SAFE_NAME.match(child.name) and not missing_files(child):
                        names.add(child.name)
        return sorted(names)

    def cached(self) -> dict[str, Path]:
        """Models downloaded into the cache, by name."""
        folder = self.sources.cache_dir
        if folder is None or not folder.is_dir():
            return {}
        return {
            child.name: child
            for child in sorted(folder.iterdir())
            if child.is_dir() and _SAFE_NAME.match(child.name)
        }

    def remove(self, name: str) -> bool:
        """Delete a downloaded model from the cache; False if it was not there."""
        self._check_name(name)
        path = self.cache_path(name)
        if path is None or not path.is_dir():
            return False
        shutil.rmtree(path)
        log.info("model removed from cache", extra={"model": name, "path": str(path)})
        return True

    def problems(self, names: tuple[str, ...] | list[str]) -> list[str]:
        """One sentence per expected model that cannot be served (offline and not present)."""
        found: list[str] = []
        for name in dict.fromkeys(names):
            try:
                if self.local(name) is not None:
                    continue
                self._check_name(name)
            except ModelUnavailable as exc:
                found.append(str(exc))
                continue
            refusal = self._download_refusal(name)
            if refusal is not None:
                found.append(refusal)
        return found

    def startup_problems(self, preload: tuple[str, ...] | list[str]) -> list[str]:
        """What an engine reports when it starts: preloaded models it cannot serve, and an
        offline runner without any model at all."""
        found = self.problems(preload)
        if self.sources.offline and not self.available():
            found.append(
                "No Whisper model is on this runner and downloads are turned off "
                "(runner.offline); add one to runner.model_paths or the models folder."
            )
        return found

    def prepare(
        self, preload: tuple[str, ...] | list[str], warm_up: Callable[[ResolvedModel], None]
    ) -> None:
        """At engine start: log the models it cannot serve, then warm up the preloaded ones
        that are on this machine (never downloading; a failure is logged, not raised)."""
        for problem in self.startup_problems(preload):
            log.error("model not available", extra={"problem": problem})
        for name in preload:
            try:
                model = self.local(name)
                if model is not None:
                    warm_up(model)
            except EngineError as exc:
                log.error("model could not be preloaded", extra={"problem": str(exc)})

    def _download_refusal(self, name: str) -> str | None:
        """Why ``name`` cannot be downloaded, or None when it can."""
        if self.sources.offline:
            return (
                f"Model '{name}' is not on this runner and downloads are turned off "
                "(runner.offline); add it to runner.model_paths or the models folder."
            )
        if name not in HUB_REPOSITORIES:
            return (
                f"Model '{name}' is not on this runner and is not one that can be downloaded; "
                f"known models: {', '.join(sorted(HUB_REPOSITORIES))}."
            )
        if self.sources.cache_dir is None:
            return f"Model '{name}' cannot be downloaded: no model cache folder is set."
        return None


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:200]


def _progress_logger(name: str) -> type[Any]:
    """A tqdm class that writes download progress to the log instead of a terminal."""
    from tqdm.auto import tqdm  # type: ignore[import-untyped]

    class LogProgress(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.pop("name", None)
            kwargs["file"] = io.StringIO()
            kwargs["mininterval"] = 2.0
            kwargs["disable"] = False
            self._last_logged = 0.0  # tqdm's constructor already displays
            super().__init__(*args, **kwargs)

        def display(self, msg: str | None = None, pos: int | None = None) -> bool:
            now = time.monotonic()
            if self.total and (now - self._last_logged >= 5 or self.n >= self.total):
                self._last_logged = now
                log.info(
                    "model download progress",
                    extra={
                        "model": name,
                        "percent": round(100 * self.n / self.total, 1),
                        "bytes": int(self.n),
                        "total_bytes": int(self.total),
                    },
                )
            return True

    return LogProgress


# --- warm models -----------------------------------------------------------------------------

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    value: T
    size: int
    last_used: float
    users: int = 0


class WarmModels(Generic[T]):
    """Loaded models kept for the next job: LRU within a memory budget, idle ones unloaded.

    A model in use is never unloaded. The model a job needs is always loaded, even when it
    alone exceeds the budget; the budget then empties everything else.
    """

    def __init__(
        self,
        budget_bytes: int,
        idle_seconds: float,
        *,
        on_unload: Callable[[str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.budget_bytes = budget_bytes
        self.idle_seconds = idle_seconds
        self._on_unload = on_unload
        self._clock = clock
        self._entries: OrderedDict[str, _Entry[T]] = OrderedDict()
        self._lock = threading.RLock()
        self._closed = threading.Event()
        self._sweeper: threading.Thread | None = None

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._entries)

    @contextmanager
    def use(self, key: str, size: int, load: Callable[[], T]) -> Iterator[T]:
        """The model under ``key``, loaded with ``load`` if it is not warm; pinned while used."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                log.debug("warm model reused", extra={"model": key})
        if entry is None:
            self._make_room(size)
            started = self._clock()
            value = load()
            log.info(
                "model loaded",
                extra={"model": key, "seconds": round(self._clock() - started, 2), "bytes": size},
            )
            with self._lock:
                entry = self._entries.get(key) or _Entry(value, size, self._clock())
                self._entries[key] = entry
                self._entries.move_to_end(key)
            self._start_sweeper()
        with self._lock:
            entry.users += 1
        try:
            yield entry.value
        finally:
            with self._lock:
                entry.users -= 1
                entry.last_used = self._clock()
            self._make_room(0)

    def _make_room(self, incoming: int) -> None:
        with self._lock:
            total = sum(entry.size for entry in self._entries.values()) + incoming
            for key in list(self._entries):
                if total <= self.budget_bytes:
                    break
                entry = self._entries[key]
                if entry.users:
                    continue
                total -= entry.size
                self._unload(key, "memory budget")

    def sweep(self) -> None:
        """Unload models idle for longer than the idle time."""
        if self.idle_seconds <= 0:
            return
        now = self._clock()
        with self._lock:
            for key, entry in list(self._entries.items()):
                if not entry.users and now - entry.last_used >= self.idle_seconds:
                    self._unload(key, "idle")

    def _unload(self, key: str, reason: str) -> None:
        del self._entries[key]
        log.info("model unloaded", extra={"model": key, "reason": reason})
        if self._on_unload is not None:
            self._on_unload(key)
        gc.collect()

    def _start_sweeper(self) -> None:
        if self.idle_seconds <= 0 or self._sweeper is not None or self._closed.is_set():
            return
        interval = min(max(self.idle_seconds / 4, 0.05), 60.0)

        def run() -> None:
            while not self._closed.wait(interval):
                self.sweep()

        self._sweeper = threading.Thread(target=run, name="warm-model-sweeper", daemon=True)
        self._sweeper.start()

    def clear(self) -> None:
        """Unload every model that is not in use."""
        with self._lock:
            for key, entry in list(self._entries.items()):
                if not entry.users:
                    self._unload(key, "closed")

    def close(self) -> None:
        self._closed.set()
        self.clear()
