"""One live channel: keeps its encoder running and publishes its segments and manifests into
the channel's directory of the filesystem object store, where the origin serves them like a
title's files.

Why our own manifests instead of serving the dash muxer's (it can write a dynamic MPD and
live HLS playlists itself): ffmpeg has no way to continue a previous run. Every run numbers
its segments from 1, starts its media time at 0 and rewrites the manifests from scratch, so
after an encoder restart players would see numbers going back and no discontinuity. So
ffmpeg writes each run into a private directory, and this module reads the run's own MPD
(the segments it lists are complete, with exact media times), hard-links each new segment
into the public directory under a channel-wide number that only grows, and writes the HLS
media playlists (EXT-X-DISCONTINUITY + a new EXT-X-MAP per run) and a dynamic MPD (a Period
per run) from `Timeline`. Only ffmpeg's master playlist is published as written. An
encrypted channel's segments are encrypted on the way (`encrypt.py` says how); clear media
never reaches the public directory.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from backend_stub.errors import TranscodeError
from backend_stub.live.encoder import LIVE_LADDER, ChannelSpec, start_encoder
from backend_stub.live.encrypt import ChannelKey, ClearSegment, encrypt_segments
from backend_stub.live.manifests import (
    dash_mpd,
    hls_media_playlist,
    init_name,
    media_playlist_name,
    segment_name,
)
from backend_stub.live.run_mpd import RunManifest, RunSegment, RunTrack, parse_run_mpd
from backend_stub.live.timeline import Run, Timeline
from backend_stub.media.artwork import still_from_fragment
from backend_stub.media.encryption import hls_key_tag, hls_key_uri

# An encoder that dies before publishing anything is restarted after this, doubling up to
# MAX_BACKOFF: a broken source must not spin a core.
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# The catalog's picture of a channel is a frame of what it showed last, this often; each
# still has a new name, because the edge caches media files as immutable.
STILL_EVERY_S = 30.0
STILLS_KEPT = 2  # a catalog listed just before a refresh still names the previous one


@dataclass(frozen=True)
class ChannelSettings:
    segment_seconds: int
    dvr_seconds: int
    utc_timing_url: str


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _link(src: Path, dest: Path) -> None:
    """Publish src as dest without copying when both are on one filesystem; ffmpeg may
    delete its own name afterwards, ours stays."""
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(src, tmp)
    except OSError:
        shutil.copyfile(src, tmp)
    os.replace(tmp, dest)


class LiveChannel:
    def __init__(
        self,
        spec: ChannelSpec,
        public_dir: Path,
        work_dir: Path,
        settings: ChannelSettings,
        key: ChannelKey | None = None,
    ) -> None:
        self.spec = spec
        self.key = key
        self.public_dir = public_dir
        self.work_dir = work_dir
        self.settings = settings
        self.timeline = Timeline(settings.segment_seconds, settings.dvr_seconds)
        self.proc: subprocess.Popen[bytes] | None = None
        self.run_dir: Path | None = None
        self.run: Run | None = None  # the current encoder run, once it published a segment
        self.seen: dict[str, int] = {}  # per track: ffmpeg's last number published this run
        self.runs_started = 0
        self.backoff = FIRST_BACKOFF
        self.restart_at = 0.0
        self.master_published = False
        self.stills: list[str] = []  # published stills, oldest first; the last is the poster
        self.still_at = -STILL_EVERY_S

    @property
    def poster(self) -> str | None:
        return self.stills[-1] if self.stills else None

    @property
    def ready(self) -> bool:
        return self.master_published and len(self.timeline.segments) == len(LIVE_LADDER) + 1

    @property
    def rungs(self) -> list[dict[str, int]]:
        """The video tracks as the catalog lists renditions (from ffmpeg's first Period)."""
        if not self.timeline.runs:
            return []
        reps = self.timeline.runs[0].period.iter("Representation")
        return [
            {
                "height": int(r.get("height", "0")),
                "width": int(r.get("width", "0")),
                "bitrate_kbps": int(r.get("bandwidth", "0")) // 1000,
            }
            for r in reps
            if r.get("height")
        ]

    def start(self) -> None:
        for d in (self.public_dir, self.work_dir):
            shutil.rmtree(d, ignore_errors=True)
            d.mkdir(parents=True)
        for track in range(len(LIVE_LADDER) + 1):
            (self.public_dir / f"r{track}").mkdir()
        self._spawn()

    def _spawn(self) -> None:
        self.runs_started += 1
        self.run_dir = self.work_dir / f"run-{self.runs_started}"
        self.run = None
        self.seen = {}
        self.proc = start_encoder(self.spec, self.run_dir, self.settings.segment_seconds)

    def poll(self, now: float | None = None) -> None:
        """Publish what the encoder finished since the last poll; restart it if it died."""
        now = time.time() if now is None else now
        if self.proc is not None:
            self._collect_or_stop(now)
            if self.proc.poll() is not None:
                self._collect_or_stop(now)  # whatever it completed before dying
                published = self.run is not None
                self.proc = None
                if self.run_dir is not None:
                    shutil.rmtree(self.run_dir, ignore_errors=True)
                self.backoff = FIRST_BACKOFF if published else min(MAX_BACKOFF, self.backoff * 2)
                self.restart_at = now + self.backoff
        elif now >= self.restart_at:
            self._spawn()

    def _read_run(self) -> RunManifest | None:
        assert self.run_dir is not None
        try:
            return parse_run_mpd((self.run_dir / "manifest.mpd").read_text())
        except (FileNotFoundError, ET.ParseError):
            return None  # not written yet; ffmpeg replaces it by rename, so never half

    def _collect_or_stop(self, now: float) -> None:
        """A run whose segments cannot be published (packager failed, or ffmpeg removed a
        segment while it was read) is stopped, and restarted with the back-off of a run
        that published nothing: the channel goes on after a discontinuity."""
        try:
            self._collect(now)
        except (TranscodeError, FileNotFoundError) as exc:
            print(f"live channel {self.spec.name}: {exc}; restarting its encoder", file=sys.stderr)
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait()

    def _collect(self, now: float) -> None:
        manifest = self._read_run()
        if manifest is None:
            return
        assert self.run_dir is not None
        new: list[tuple[RunTrack, RunSegment, Path]] = []
        for track in manifest.tracks:
            rep = track.rep_id
            for seg in track.segments:
                if seg.number <= self.seen.get(rep, 0):
                    continue
                src = self.run_dir / f"r{rep}" / f"seg-{seg.number:05d}.m4s"
                self.seen[rep] = seg.number
                if src.is_file():  # else ffmpeg already dropped it: we were too slow
                    new.append((track, seg, src))
        if not new:
            return
        clear = [
            ClearSegment(track.content_type, self.run_dir / f"r{track.rep_id}" / "init.m4s", src)
            for track, _seg, src in new
        ]
        files = (
            [(c.init, c.media) for c in clear]
            if self.key is None
            else [
                (e.init, e.media)
                for e in encrypt_segments(clear, self.key, self.work_dir / "encrypt")
            ]
        )
        for (track, seg, _src), (init, media) in zip(new, files, strict=True):
            if self.run is None:
                self.run = self.timeline.start_run(manifest.period, now, seg.d / track.timescale)
            rep = track.rep_id
            if rep not in self.run.t0:
                _link(init, self.public_dir / init_name(rep, self.run.ordinal))
            added = self.timeline.add(
                rep, track.content_type, track.timescale, self.run, seg.number, seg.t, seg.d
            )
            _link(media, self.public_dir / segment_name(rep, added.number))
        self._publish(now)
        videos = [(track, src) for track, _seg, src in new if track.content_type == "video"]
        if videos and now - self.still_at >= STILL_EVERY_S:
            self.still_at = now
            track, src = max(videos, key=lambda v: int(v[0].rep_id))  # the sharpest rung
            self._take_still(self.run_dir / f"r{track.rep_id}" / "init.m4s", src)

    def _take_still(self, init: Path, fragment: Path) -> None:
        """A still from the clear fragment (before encryption, as a title's poster comes from
        its source). A still that fails leaves the previous one: the channel plays on."""
        name = f"still-{self.timeline.next_number}.jpg"
        try:
            still_from_fragment(init, fragment, self.public_dir / name)
        except (TranscodeError, subprocess.TimeoutExpired) as exc:
            print(f"live channel {self.spec.name}: no new still: {exc}", file=sys.stderr)
            return
        self.stills.append(name)
        for old in self.stills[:-STILLS_KEPT]:
            (self.public_dir / old).unlink(missing_ok=True)
        del self.stills[:-STILLS_KEPT]

    def _publish(self, now: float) -> None:
        """Segments are in place; now the playlists naming them, then the entry points."""
        for track, segs in self.timeline.prune().items():
            for seg in segs:
                (self.public_dir / segment_name(track, seg.number)).unlink(missing_ok=True)
        key_tag = (
            None
            if self.key is None
            else hls_key_tag(self.key.scheme, self.key.kid, hls_key_uri(self.spec.video_id))
        )
        kept = set(self.timeline.live_runs())
        for run in self.timeline.runs:
            if run.ordinal not in kept:
                for track in run.t0:
                    (self.public_dir / init_name(track, run.ordinal)).unlink(missing_ok=True)
        for track in self.timeline.segments:
            _write_atomic(
                self.public_dir / media_playlist_name(track),
                hls_media_playlist(self.timeline, track, key_tag),
            )
        _write_atomic(
            self.public_dir / "manifest.mpd",
            dash_mpd(self.timeline, now, self.settings.utc_timing_url, self.key),
        )
        if not self.master_published and len(self.timeline.segments) == len(LIVE_LADDER) + 1:
            assert self.run_dir is not None
            with contextlib.suppress(FileNotFoundError):
                _write_atomic(
                    self.public_dir / "master.m3u8", (self.run_dir / "master.m3u8").read_text()
                )
                self.master_published = True

    def stop(self) -> None:
        """Stop the encoder and remove everything the channel wrote."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        for d in (self.work_dir, self.public_dir):
            shutil.rmtree(d, ignore_errors=True)
