"""The server's own voice: calls spoken by espeak-ng when a board's browser has no Mandarin voice.

Like a station that records each platform announcement once and replays the recording, the
server synthesises a call's phrase once and keeps the WAV file in the instance folder, named by
a hash of the phrase and the voice settings. Nothing leaves the machine: espeak-ng runs
offline. Only phrases built by ``display.announce`` from a checked ticket and window number are
ever synthesised, and the cache keeps at most ``max_files`` recordings (the least recently
used go first), so a day of ~2,000 calls, or somebody asking for every possible number,
cannot fill the disk.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .announce import Announcement

# espeak-ng's "cmn" voice reads the pinyin of its own dictionary as English ("hao4" → "hao
# four"); "cmn-latn-pinyin" reads it as pinyin, and still says capital letters by name.
PREFERRED_VOICES = ("cmn-latn-pinyin", "cmn")
AUDIO_NAME = re.compile(r"[0-9a-f]{32}")
SYNTH_TIMEOUT_SECONDS = 10.0


class SpeechUnavailable(RuntimeError):
    """No speech engine on this server (espeak-ng is not installed, or it failed)."""


@dataclass
class Synthesizer:
    """Turns announcements into cached WAV files with espeak-ng."""

    cache_dir: Path
    executable: str | None = field(default_factory=lambda: shutil.which("espeak-ng"))
    speed: int = 135  # words per minute; espeak-ng's default of 175 is hurried for a hall
    word_gap: int = 2  # in 10 ms units: a short pause between the digits
    max_files: int = 500
    _voice: str | None = field(default=None, init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    @property
    def available(self) -> bool:
        return self.executable is not None

    def voice(self) -> str:
        """The best Mandarin voice this espeak-ng has (asked once)."""
        if self._voice is None:
            listing = self._run("--voices=cmn").stdout.decode("utf-8", "replace")
            names = set(listing.lower().split())
            self._voice = next((v for v in PREFERRED_VOICES if v in names), "cmn")
        return self._voice

    def name_for(self, item: Announcement) -> str:
        """The cache name of a phrase: a hash of the voice settings and the spoken text."""
        key = f"{self.voice()}|{self.speed}|{self.word_gap}|{item.speech}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]

    def path(self, name: str) -> Path | None:
        """The cached recording ``name`` if it exists (``name`` is checked, never a path)."""
        if not AUDIO_NAME.fullmatch(name):
            return None
        path = self.cache_dir / f"{name}.wav"
        return path if path.is_file() else None

    def synthesize(self, item: Announcement) -> str:
        """The cache name of ``item``'s recording, made now if it is not cached yet."""
        name = self.name_for(item)
        target = self.cache_dir / f"{name}.wav"
        if target.is_file():
            os.utime(target)  # recently used: kept longest
            return name
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        partial = self.cache_dir / f".{name}.{uuid.uuid4().hex}.part"
        try:
            options = ["-v", self.voice(), "-s", str(self.speed), "-g", str(self.word_gap)]
            self._run(*options, "-w", str(partial), "--stdin", text=item.speech)
            if partial.stat().st_size <= 44:  # a bare WAV header: nothing was said
                raise SpeechUnavailable("espeak-ng produced no audio")
            os.replace(partial, target)  # atomic: readers never see half a file
        finally:
            partial.unlink(missing_ok=True)
        self.prune()
        return name

    def prune(self) -> None:
        """Keep the ``max_files`` most recently used recordings."""
        with self._lock:
            files = sorted(self.cache_dir.glob("*.wav"), key=_mtime, reverse=True)
            for old in files[self.max_files :]:
                old.unlink(missing_ok=True)

    def _run(self, *args: str, text: str | None = None) -> subprocess.CompletedProcess[bytes]:
        if self.executable is None:
            raise SpeechUnavailable("espeak-ng is not installed on this server")
        try:
            return subprocess.run(
                [self.executable, *args],
                input=text.encode("utf-8") if text is not None else None,
                capture_output=True,
                timeout=SYNTH_TIMEOUT_SECONDS,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise SpeechUnavailable(f"espeak-ng failed: {exc.__class__.__name__}") from exc


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0
