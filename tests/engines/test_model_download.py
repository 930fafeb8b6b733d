"""Downloading a missing model from the model hub, end to end, with a hub on this machine.

The Hugging Face hub cannot be reached from here, so a small HTTP server stands in for it: it
answers the two kinds of request `huggingface_hub` makes (a repository's file list, then each
file) and serves the real `tiny.en` model files. Everything on our side is real: the model
store's hub client, its file filter, progress logging, the cache layout, and the
faster-whisper engine loading and running the downloaded model.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import huggingface_hub.constants
import pytest
from huggingface_hub.utils import reset_sessions

from projectw.config.work import RunnerSettings
from projectw.runner.engines.faster_whisper import FasterWhisperEngine
from projectw.runner.models import (
    HUB_REPOSITORIES,
    EngineConfig,
    ModelSources,
    ModelStore,
    ModelUnavailable,
)
from tests.engines.speech import SENTENCE, wer

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class Hub:
    """A model hub with one repository; records the paths asked for."""

    url: str
    repository: str
    files: dict[str, bytes]
    requests: list[str] = field(default_factory=list)


def _handler(hub: Hub) -> type[BaseHTTPRequestHandler]:
    info_path = f"/api/models/{hub.repository}/revision/main"
    file_prefix = f"/{hub.repository}/resolve/"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _file(self) -> bytes | None:
            if not self.path.startswith(file_prefix):
                return None
            _revision, _, name = self.path[len(file_prefix) :].partition("/")
            return hub.files.get(name)

        def _send_file_headers(self, content: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(content)))
            self.send_header("X-Repo-Commit", COMMIT)
            self.send_header("ETag", f'"{hashlib.sha256(content).hexdigest()}"')
            self.end_headers()

        def do_HEAD(self) -> None:
            hub.requests.append(f"HEAD {self.path}")
            content = self._file()
            if content is None:
                self.send_error(404)
                return
            self._send_file_headers(content)

        def do_GET(self) -> None:
            hub.requests.append(f"GET {self.path}")
            if self.path.split("?")[0] == info_path:
                body = json.dumps(
                    {
                        "id": hub.repository,
                        "sha": COMMIT,
                        "siblings": [{"rfilename": name} for name in hub.files],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            content = self._file()
            if content is None:
                self.send_error(404)
                return
            self._send_file_headers(content)
            self.wfile.write(content)

    return Handler


@pytest.fixture
def hub(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    # The engine tests keep the hub library offline; these are the ones that may reach a hub.
    # Its HTTP sessions are made once, with offline mode built in, so they are made anew.
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    reset_sessions()
    files = {path.name: path.read_bytes() for path in sorted(tiny_model.iterdir())}
    files["README.md"] = b"# not a model file\n"
    served = Hub("", HUB_REPOSITORIES["tiny.en"], files)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()
        monkeypatch.undo()
        reset_sessions()


def _sources(tmp_path: Path, hub: Hub) -> ModelSources:
    return ModelSources(
        models_dir=tmp_path / "models", cache_dir=tmp_path / "cache", hub_url=hub.url
    )


def test_a_missing_model_is_downloaded_once_into_the_cache(
    tmp_path: Path, hub: Hub, tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = ModelStore(_sources(tmp_path, hub))
    with caplog.at_level(logging.INFO, logger="projectw.runner.models"):
        found = store.resolve("tiny.en")
    assert (found.source, found.path) == ("download", tmp_path / "cache" / "tiny.en")
    for path in tiny_model.iterdir():
        assert (found.path / path.name).read_bytes() == path.read_bytes()
    # Only the files a model needs are fetched.
    assert not (found.path / "README.md").exists()
    assert not any("README.md" in request for request in hub.requests)
    messages = [record.getMessage() for record in caplog.records]
    assert "downloading model" in messages and "model downloaded" in messages
    progress = [r for r in caplog.records if r.getMessage() == "model download progress"]
    assert progress and all(getattr(r, "model", None) == "tiny.en" for r in progress)
    assert getattr(progress[-1], "percent", None) == 100.0

    asked = len(hub.requests)
    again = ModelStore(_sources(tmp_path, hub)).resolve("tiny.en")
    assert again.source == "cache"
    assert len(hub.requests) == asked
    assert store.cached() == {"tiny.en": found.path}
    assert "tiny.en" in store.available()


def test_the_engine_transcribes_with_a_downloaded_model(
    tmp_path: Path, hub: Hub, sentence_wav: Path
) -> None:
    engine = FasterWhisperEngine(EngineConfig(sources=_sources(tmp_path, hub)))
    try:
        assert "tiny.en" not in engine.capabilities().models
        transcript = engine.transcribe(
            sentence_wav,
            {"model": "tiny.en", "language": "en"},
            lambda _stage, _percent: None,
            threading.Event(),
        )
    finally:
        engine.close()
    assert wer(SENTENCE, transcript.text) <= 0.25
    assert (tmp_path / "cache" / "tiny.en" / "model.bin").is_file()


def test_a_hub_that_lacks_the_model_is_a_clear_error(tmp_path: Path, hub: Hub) -> None:
    del hub.files["model.bin"]
    store = ModelStore(_sources(tmp_path, hub))
    with pytest.raises(ModelUnavailable, match="download of model 'tiny.en' is incomplete"):
        store.resolve("tiny.en")


def test_the_hub_address_must_be_a_web_address() -> None:
    assert RunnerSettings(hub_url="https://hub.example.org/").hub_url == "https://hub.example.org"
    with pytest.raises(ValueError, match="http:// or https://"):
        RunnerSettings(hub_url="hub.example.org")
