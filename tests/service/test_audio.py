"""The server's voice: recordings made once per phrase, bounded in number, never of free text.

Most tests use a stand-in for espeak-ng (a small script that writes a WAV header and the text
it was given), so they run anywhere and fast; one test uses the real espeak-ng when installed.
"""

from __future__ import annotations

import os
import shutil
import wave
from pathlib import Path

import pytest

from display.announce import announcement
from display.audio import AUDIO_NAME, SpeechUnavailable, Synthesizer
from tests.helpers.display import fake_espeak


@pytest.fixture
def fake(tmp_path: Path) -> Path:
    return fake_espeak(tmp_path)


def calls(fake: Path) -> list[str]:
    log = Path(f"{fake}.calls")
    return log.read_text(encoding="utf-8").splitlines() if log.exists() else []


def test_a_phrase_is_synthesised_once_then_served_from_the_cache(
    tmp_path: Path, fake: Path
) -> None:
    speech = Synthesizer(tmp_path / "cache", executable=str(fake))
    item = announcement("A023", 5)
    name = speech.synthesize(item)
    assert AUDIO_NAME.fullmatch(name)
    assert speech.synthesize(item) == name
    assert calls(fake) == ["-v cmn-latn-pinyin -s 135 -g 2|请 A 零 二 三 号,到 五 号窗口办理"]
    path = speech.path(name)
    assert path is not None and path.parent == tmp_path / "cache"
    with wave.open(str(path)) as recording:
        assert recording.getnframes() == 2205
    assert not list((tmp_path / "cache").glob(".*"))  # no partial files left behind


def test_the_name_depends_on_the_phrase_and_the_voice_settings(tmp_path: Path, fake: Path) -> None:
    speech = Synthesizer(tmp_path, executable=str(fake))
    a5, a6 = announcement("A023", 5), announcement("A023", 6)
    assert speech.name_for(a5) != speech.name_for(a6)
    slower = Synthesizer(tmp_path, executable=str(fake), speed=120)
    assert slower.name_for(a5) != speech.name_for(a5)


def test_the_cache_keeps_only_the_most_recently_used_recordings(tmp_path: Path, fake: Path) -> None:
    cache = tmp_path / "cache"
    speech = Synthesizer(cache, executable=str(fake), max_files=3)
    names = []
    for seq, stamp in zip(range(1, 6), range(1_000, 6_000, 1_000), strict=True):
        names.append(speech.synthesize(announcement(f"B{seq:03d}", 2)))
        path = speech.path(names[-1])
        assert path is not None
        os.utime(path, (stamp, stamp))  # distinct ages, whatever the file system's resolution
    assert sorted(p.stem for p in cache.glob("*.wav")) == sorted(names[-3:])
    assert speech.path(names[0]) is None


@pytest.mark.parametrize("name", ["../secret", "ABCDEF", "a" * 31, "a" * 33, "", "x" * 32])
def test_only_hash_names_are_looked_up(tmp_path: Path, name: str) -> None:
    (tmp_path / "secret.wav").write_bytes(b"RIFF")
    assert Synthesizer(tmp_path, executable=None).path(name) is None


def test_without_espeak_ng_synthesis_is_unavailable(tmp_path: Path) -> None:
    speech = Synthesizer(tmp_path, executable=None)
    assert not speech.available
    with pytest.raises(SpeechUnavailable):
        speech.synthesize(announcement("A023", 5))


def test_a_failing_espeak_ng_is_unavailable_too(tmp_path: Path) -> None:
    broken = tmp_path / "espeak-ng"
    broken.write_text("#!/bin/sh\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(SpeechUnavailable):
        Synthesizer(tmp_path / "cache", executable=str(broken)).synthesize(announcement("A023", 5))
    assert not list((tmp_path / "cache").glob("*"))


def test_the_real_espeak_ng_speaks_mandarin(tmp_path: Path) -> None:
    executable = shutil.which("espeak-ng")
    if executable is None:
        if os.environ.get("HALL_REQUIRE_SERVICES") == "1":
            pytest.fail("espeak-ng is required (HALL_REQUIRE_SERVICES=1) but not installed")
        pytest.skip("espeak-ng is not installed")
    speech = Synthesizer(tmp_path, executable=executable)
    assert speech.voice() == "cmn-latn-pinyin"
    path = speech.path(speech.synthesize(announcement("A023", 15)))
    assert path is not None
    with wave.open(str(path)) as recording:
        seconds = recording.getnframes() / recording.getframerate()
    assert 2.0 < seconds < 10.0  # a whole sentence, said at an unhurried pace
