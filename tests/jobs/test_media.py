"""Probing real media files: what is accepted, what is refused and why."""

from __future__ import annotations

import pytest

from projectw.errors import PayloadTooLarge, UnsupportedMedia
from projectw.jobs.media import MediaUnreadable, probe_media
from tests.media import MediaFactory


@pytest.mark.parametrize(
    ("kind", "container", "codec"),
    [
        ("wav", "wav", "pcm_s16le"),
        ("mp3", "mp3", "mp3"),
        ("ogg", "ogg", "opus"),
        ("m4a", "mp4", "aac"),
        ("flac", "flac", "flac"),
        ("webm", "matroska", "opus"),
        ("video", "mp4", "aac"),
        ("mkv", "matroska", "flac"),
    ],
)
def test_common_formats_are_accepted_and_described(
    media: MediaFactory, kind: str, container: str, codec: str
) -> None:
    info = probe_media(media.path(kind), max_duration_seconds=3600)
    assert (info.container, info.codec, info.channels) == (container, codec, 1)
    assert info.sample_rate in (22050, 48000)
    assert 2.5 < info.duration_seconds < 6


def test_a_video_without_audio_is_unsupported(media: MediaFactory) -> None:
    with pytest.raises(UnsupportedMedia, match="no audio track") as caught:
        probe_media(media.path("video_without_audio"), 3600)
    assert caught.value.status_code == 415


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("truncated", "seems truncated"),
        ("text", "could not be read as audio or video"),
        ("empty", "The file is empty."),
    ],
)
def test_damaged_or_non_media_files_are_unreadable(
    media: MediaFactory, kind: str, message: str
) -> None:
    with pytest.raises(MediaUnreadable, match=message) as caught:
        probe_media(media.path(kind), 3600)
    assert caught.value.status_code == 422


def test_a_recording_over_the_maximum_duration_is_too_large(media: MediaFactory) -> None:
    path = media.silence(12, "mp3")
    assert 11.9 < probe_media(path, 13).duration_seconds < 12.2
    with pytest.raises(PayloadTooLarge, match="0:12 long; the longest accepted is 0:10") as caught:
        probe_media(path, 10)
    assert caught.value.status_code == 413


@pytest.mark.parametrize("kind", ["m4a", "flac", "mp3", "wav"])
def test_long_files_are_probed_to_their_real_end(media: MediaFactory, kind: str) -> None:
    whole = media.silence(200, kind)
    assert 199.5 < probe_media(whole, 3600).duration_seconds < 200.5


@pytest.mark.parametrize("kind", ["m4a", "flac", "mp3"])
def test_a_long_file_cut_in_half_is_truncated(media: MediaFactory, kind: str) -> None:
    # Whether the cut falls into the index or into the audio, it is refused as truncated.
    with pytest.raises(MediaUnreadable, match="truncated"):
        probe_media(media.cut(media.silence(200, kind), 0.5), 3600)
