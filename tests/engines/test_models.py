"""Model resolution order, the download cache, and the warm-model cache."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from projectw.runner.engines.job_options import read_job_options, temperature_schedule
from projectw.runner.models import (
    EngineConfig,
    ModelSources,
    ModelStore,
    ModelUnavailable,
    WarmModels,
    _progress_logger,
    choose_device,
)


def model_folder(path: Path, marker: str = "") -> Path:
    """A folder with the files a model needs (contents are not loaded by these tests)."""
    path.mkdir(parents=True)
    for name in ("config.json", "model.bin", "tokenizer.json"):
        (path / name).write_text(marker or name)
    return path


@pytest.fixture
def dirs(tmp_path: Path) -> dict[str, Path]:
    return {
        "configured": tmp_path / "configured",
        "models": tmp_path / "models",
        "cache": tmp_path / "cache",
    }


def store(dirs: dict[str, Path], *, offline: bool = True, paths: dict[str, Path] | None = None):
    return ModelStore(
        ModelSources(
            model_paths=paths or {},
            models_dir=dirs["models"],
            cache_dir=dirs["cache"],
            offline=offline,
        )
    )


def test_configured_path_comes_first(dirs: dict[str, Path]) -> None:
    configured = model_folder(dirs["configured"] / "mine")
    model_folder(dirs["models"] / "small")
    model_folder(dirs["cache"] / "small")
    found = store(dirs, paths={"small": configured}).resolve("small")
    assert (found.path, found.source) == (configured, "config")


def test_models_dir_before_cache(dirs: dict[str, Path]) -> None:
    model_folder(dirs["models"] / "small")
    model_folder(dirs["cache"] / "small")
    found = store(dirs).resolve("small")
    assert (found.path, found.source) == (dirs["models"] / "small", "models_dir")


def test_cache_last(dirs: dict[str, Path]) -> None:
    model_folder(dirs["cache"] / "small")
    found = store(dirs).resolve("small")
    assert (found.path, found.source) == (dirs["cache"] / "small", "cache")


def test_missing_configured_folder_is_named(dirs: dict[str, Path]) -> None:
    with pytest.raises(ModelUnavailable, match=r"configured at .*nowhere.*does not exist"):
        store(dirs, paths={"small": dirs["configured"] / "nowhere"}).resolve("small")


def test_incomplete_folder_names_missing_files(dirs: dict[str, Path]) -> None:
    folder = model_folder(dirs["models"] / "small")
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ModelUnavailable, match="lacks tokenizer.json"):
        store(dirs).resolve("small")


def test_offline_missing_model(dirs: dict[str, Path]) -> None:
    with pytest.raises(ModelUnavailable, match=r"downloads are turned off \(runner\.offline\)"):
        store(dirs).resolve("medium")


def test_unknown_model_cannot_be_downloaded(dirs: dict[str, Path]) -> None:
    with pytest.raises(ModelUnavailable, match="not one that can be downloaded"):
        store(dirs, offline=False).resolve("enormous")


@pytest.mark.parametrize("name", ["../etc", "a/b", "", ".hidden", "x" * 200])
def test_unsafe_names_are_refused(dirs: dict[str, Path], name: str) -> None:
    with pytest.raises(ModelUnavailable, match="is not a valid model name"):
        store(dirs).resolve(name)


def test_download_failure_is_reported_without_hanging(
    dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    # HF_HUB_OFFLINE=1 (tests/engines/conftest.py) stands in for a machine without a route
    # to the model hub: the hub library refuses at once.
    caplog.set_level(logging.INFO, logger="projectw.runner.models")
    with pytest.raises(ModelUnavailable, match="'tiny' could not be downloaded from the model hub"):
        store(dirs, offline=False).download("tiny")
    assert any(record.getMessage() == "downloading model" for record in caplog.records)


def test_download_progress_goes_to_the_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="projectw.runner.models")
    progress = _progress_logger("tiny")(total=4, desc="Fetching 4 files")
    for _ in range(4):
        progress.update(1)
    progress.close()
    reports = [r for r in caplog.records if r.getMessage() == "model download progress"]
    assert reports and all(r.model == "tiny" for r in reports)  # type: ignore[attr-defined]
    assert reports[-1].percent == 100.0  # type: ignore[attr-defined]


def test_available_lists_every_source(dirs: dict[str, Path]) -> None:
    configured = model_folder(dirs["configured"] / "x")
    model_folder(dirs["models"] / "base")
    model_folder(dirs["cache"] / "small")
    incomplete = model_folder(dirs["cache"] / "medium")
    (incomplete / "model.bin").unlink()
    names = store(dirs, paths={"tiny.en": configured, "gone": dirs["configured"] / "y"})
    assert names.available() == ["base", "small", "tiny.en"]


def test_cached_and_remove(dirs: dict[str, Path]) -> None:
    model_folder(dirs["cache"] / "small")
    model_folder(dirs["models"] / "base")
    models = store(dirs)
    assert list(models.cached()) == ["small"]
    assert models.remove("small") is True
    assert models.remove("small") is False
    assert models.remove("base") is False  # the models folder is the admin's, not the cache
    assert (dirs["models"] / "base").is_dir()


def test_problems_offline(dirs: dict[str, Path]) -> None:
    model_folder(dirs["models"] / "base")
    problems = store(dirs).problems(["base", "small", "small"])
    assert len(problems) == 1
    assert "Model 'small' is not on this runner" in problems[0]
    assert store(dirs, offline=False).problems(["small"]) == []
    assert "not one that can be downloaded" in store(dirs, offline=False).problems(["huge"])[0]


def test_startup_problems(dirs: dict[str, Path]) -> None:
    assert "No Whisper model is on this runner" in store(dirs).startup_problems([])[0]
    assert store(dirs, offline=False).startup_problems([]) == []
    model_folder(dirs["models"] / "base")
    assert store(dirs).startup_problems(["base"]) == []
    assert "Model 'small'" in store(dirs).startup_problems(["small"])[0]


def test_engine_config_from_runner_settings(tmp_path: Path) -> None:
    from pydantic import SecretStr

    config = EngineConfig.from_options(
        {
            "model_paths": {"tiny.en": "/srv/tiny"},
            "hf_token": SecretStr("hf_secret_value"),
            "offline": True,
            "preload_models": ["tiny.en"],
            "models_dir": str(tmp_path),
        }
    )
    assert config.sources.model_paths == {"tiny.en": Path("/srv/tiny")}
    assert config.sources.hf_token == "hf_secret_value"
    assert "hf_secret_value" not in repr(config)
    assert config.sources.cache_dir is None
    assert config.preload_models == ("tiny.en",)
    assert EngineConfig.from_options({}) == EngineConfig()


def test_lower_priority_only_raises_niceness() -> None:
    code = (
        "import os; from projectw.runner.models import lower_priority; "
        "lower_priority(7); a = os.nice(0); lower_priority(3); print(a, os.nice(0))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    before = os.nice(0)
    assert result.stdout.split() == [str(max(7, before))] * 2


def test_auto_device_on_this_machine_is_cpu_int8() -> None:
    # No GPU on the test machines: auto means the CPU with int8.
    assert choose_device("auto", "auto") == ("cpu", "int8")
    assert choose_device("cuda", "auto") == ("cuda", "float16")
    assert choose_device("cpu", "float32") == ("cpu", "float32")


# --- warm models -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self) -> None:
        self.loaded: list[str] = []
        self.unloaded: list[str] = []

    def __call__(self, key: str) -> object:
        self.loaded.append(key)
        return object()


def test_warm_model_is_reused() -> None:
    loader = Loader()
    warm: WarmModels[object] = WarmModels(100, 0)
    with warm.use("a", 10, lambda: loader("a")) as first:
        pass
    with warm.use("a", 10, lambda: loader("a")) as second:
        pass
    assert first is second
    assert loader.loaded == ["a"]


def test_least_recently_used_goes_first_when_over_budget() -> None:
    loader = Loader()
    warm: WarmModels[object] = WarmModels(100, 0, on_unload=loader.unloaded.append)
    for key in ("a", "b", "a", "c"):
        with warm.use(key, 40, lambda key=key: loader(key)):  # type: ignore[misc]
            pass
    assert loader.unloaded == ["b"]
    assert warm.keys() == ["a", "c"]


def test_model_in_use_is_never_unloaded() -> None:
    loader = Loader()
    warm: WarmModels[object] = WarmModels(50, 0, on_unload=loader.unloaded.append)
    with warm.use("a", 40, lambda: loader("a")):
        with warm.use("b", 40, lambda: loader("b")):
            assert loader.unloaded == []
        assert loader.unloaded == ["b"]
        assert warm.keys() == ["a"]
    assert warm.keys() == ["a"]


def test_a_model_bigger_than_the_budget_still_loads() -> None:
    loader = Loader()
    warm: WarmModels[object] = WarmModels(10, 0, on_unload=loader.unloaded.append)
    with warm.use("a", 5, lambda: loader("a")):
        pass
    with warm.use("big", 50, lambda: loader("big")) as model:
        assert model is not None
    assert loader.unloaded[0] == "a"


def test_idle_models_are_unloaded() -> None:
    clock = Clock()
    loader = Loader()
    warm: WarmModels[object] = WarmModels(100, 60, on_unload=loader.unloaded.append, clock=clock)
    try:
        with warm.use("a", 10, lambda: loader("a")):
            pass
        with warm.use("b", 10, lambda: loader("b")):
            pass
        clock.now += 30
        with warm.use("b", 10, lambda: loader("b")):
            pass
        clock.now += 40
        warm.sweep()
        assert warm.keys() == ["b"]
        assert loader.unloaded == ["a"]
    finally:
        warm.close()
    assert loader.unloaded == ["a", "b"]


def test_sweeper_thread_unloads_without_a_new_job() -> None:
    unloaded = []
    warm: WarmModels[object] = WarmModels(100, 0.2, on_unload=unloaded.append)
    try:
        with warm.use("a", 10, object):
            pass
        for _ in range(100):
            if unloaded:
                break
            time.sleep(0.05)
        assert unloaded == ["a"]
    finally:
        warm.close()


# --- job options -----------------------------------------------------------------------------


def test_temperature_schedule() -> None:
    assert temperature_schedule(0.0, 0.2) == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    assert temperature_schedule(0.5, 0.3) == (0.5, 0.8)
    assert temperature_schedule(0.3, 0) == (0.3,)
    assert temperature_schedule(1.0, 0.2) == (1.0,)


def test_job_options_defaults_match_project_w() -> None:
    options = read_job_options({})
    assert (options.task, options.model, options.language) == ("transcribe", "small", None)
    assert options.alignment is True and options.diarization is False
    assert options.vad is not None and (options.vad.onset, options.vad.offset) == (0.5, 0.363)
    assert options.decode.beam_size == 5
    assert options.decode.suppress_tokens == (-1,)


def test_job_options_ignore_unknown_fields() -> None:
    options = read_job_options({"email_notification": True, "future_field": 1, "model": "base"})
    assert options.model == "base"


def test_prepare_warms_present_models_and_logs_the_rest(
    dirs: dict[str, Path], caplog: pytest.LogCaptureFixture
) -> None:
    model_folder(dirs["models"] / "small")
    model_folder(dirs["models"] / "broken")
    warmed: list[str] = []

    def warm_up(model: Any) -> None:
        if model.name == "broken":
            raise ModelUnavailable("Model 'broken' could not be loaded.")
        warmed.append(model.name)

    with caplog.at_level(logging.ERROR, logger="projectw.runner.models"):
        store(dirs).prepare(["small", "broken", "absent"], warm_up)
    assert warmed == ["small"]
    problems = {r.getMessage(): getattr(r, "problem", "") for r in caplog.records}
    assert "Model 'absent' is not on this runner" in problems["model not available"]
    assert problems["model could not be preloaded"] == "Model 'broken' could not be loaded."
