"""`projectw models list|pull|rm` against a real data dir and the real tiny.en model."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from projectw.cli import cli


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def write_config(path: Path, **runner: object) -> Path:
    path.write_text(yaml.safe_dump({"runner": runner}))
    return path


def test_list_shows_each_source(tmp_path: Path, tiny_model: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_model, data / "models" / "base.en")
    config = write_config(
        tmp_path / "config.yml",
        model_paths={"tiny.en": str(tiny_model), "broken": str(tmp_path / "nowhere")},
        offline=True,
    )
    code, output = run("models", "list", "--config", str(config), "--data-dir", str(data))
    assert code == 0, output
    lines = {line.split()[0]: line for line in output.splitlines() if line.strip()}
    assert "configured" in lines["tiny.en"] and str(tiny_model) in lines["tiny.en"]
    assert "models dir" in lines["base.en"] and "MiB" in lines["base.en"]
    assert "unusable" in lines["broken"] and "does not exist" in lines["broken"]
    assert "Downloads are turned off (runner.offline)." in output


def test_list_offers_downloads_when_online(tmp_path: Path) -> None:
    code, output = run("models", "list", "--data-dir", str(tmp_path / "data"))
    assert code == 0, output
    assert "No models on this machine yet." in output
    assert "Can be downloaded:" in output and "small" in output


def test_pull_offline_is_refused(tmp_path: Path) -> None:
    config = write_config(tmp_path / "config.yml", offline=True)
    code, output = run("models", "pull", "small", "--config", str(config))
    assert code == 1
    assert "downloads are turned off (runner.offline)" in output


def test_pull_of_a_present_model_does_nothing(tmp_path: Path, tiny_model: Path) -> None:
    config = write_config(tmp_path / "config.yml", model_paths={"tiny.en": str(tiny_model)})
    code, output = run("models", "pull", "tiny.en", "--config", str(config))
    assert code == 0, output
    assert f"tiny.en: already here ({tiny_model})" in output


def test_pull_failure_is_one_clear_line(tmp_path: Path) -> None:
    # HF_HUB_OFFLINE=1 (tests/engines/conftest.py) stands in for a machine that cannot reach
    # the model hub.
    code, output = run("models", "pull", "tiny", "--data-dir", str(tmp_path / "data"))
    assert code == 1
    assert "Model 'tiny' could not be downloaded from the model hub" in output
    assert "Traceback" not in output


def test_rm_deletes_from_the_cache_only(tmp_path: Path, tiny_model: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(tiny_model, data / "cache" / "models" / "tiny.en")
    shutil.copytree(tiny_model, data / "models" / "base.en")
    code, output = run("models", "rm", "tiny.en", "--data-dir", str(data))
    assert code == 0, output
    assert not (data / "cache" / "models" / "tiny.en").exists()
    code, output = run("models", "rm", "base.en", "--data-dir", str(data))
    assert code == 1
    assert "Not in the model cache: base.en" in output
    assert (data / "models" / "base.en").is_dir()
