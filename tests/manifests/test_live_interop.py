"""Live and multi-Period manifests written by ffmpeg and Shaka Packager, generated here.

ffmpeg's dash and hls muxers run in real time (`-re`) on a few seconds of testsrc2, and the
test reads their manifests while they are live, the way a player would: two loads a couple of
seconds apart, and the one written when the stream ends. Every segment URL a parse gives must
name a file the muxer had written at the time of that load.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

import pytest

from abr.manifests import ManifestError, parse_dash, parse_hls, refreshed
from abr.presentation import Presentation

if TYPE_CHECKING:
    from conftest import Ladder

SECONDS = 7
SOURCE = ["-re", "-f", "lavfi", "-i", f"testsrc2=size=320x240:rate=24:duration={SECONDS}"]
ENCODE = ["-c:v", "libx264", "-preset", "ultrafast", "-g", "24", "-keyint_min", "24"]
ENCODE += ["-sc_threshold", "0", "-b:v", "200k"]
DASH_LIVE = ["-f", "dash", "-streaming", "1", "-window_size", "5", "-use_template", "1"]
DASH_LIVE += ["-seg_duration", "1"]
TIME_URL = "http://127.0.0.1:9/time"  # named in the MPD, never fetched here
MUXERS = {
    "dash_timeline": (*DASH_LIVE, "-use_timeline", "1", "live.mpd"),
    "dash_template": (*DASH_LIVE, "-use_timeline", "0", "live.mpd"),
    # Low-latency DASH: chunked segments served while written (availabilityTimeOffset).
    "dash_ldash": (
        *(*DASH_LIVE, "-use_timeline", "0", "-ldash", "1", "-utc_timing_url", TIME_URL),
        "live.mpd",
    ),
    "hls": (
        *("-f", "hls", "-hls_time", "1", "-hls_list_size", "5"),
        *("-hls_flags", "delete_segments+program_date_time", "-master_pl_name", "master.m3u8"),
        "live.m3u8",
    ),
}


@dataclass(frozen=True)
class Load:
    """A manifest as fetched at one moment, and the files that existed then."""

    text: str
    url: str
    at_utc_s: float
    files: frozenset[str]
    master: str = ""  # HLS: the master playlist naming `url` with its BANDWIDTH

    def parse(self) -> Presentation:
        if self.url.endswith(".mpd"):
            return parse_dash(self.text, self.url)  # at its publishTime
        master_url = self.url.replace("live.m3u8", "master.m3u8")
        return parse_hls(self.master, master_url, {self.url: self.text})


@dataclass(frozen=True)
class LiveRun:
    early: Load  # a load while live, once a few segments are out
    later: Load  # a reload about two seconds later
    final: Load  # what the muxer left when the stream ended


def _load(manifest: Path) -> Load | None:
    at = time.time()
    files = frozenset(p.name for p in manifest.parent.iterdir())
    master = manifest.with_name("master.m3u8")
    try:
        text = manifest.read_text()
        master_text = master.read_text() if manifest.suffix == ".m3u8" else ""
    except FileNotFoundError:
        return None
    return Load(text, manifest.as_uri(), at, files, master_text)


def _live_enough(load: Load | None, past: int) -> bool:
    """Live and parseable, its newest segment numbered above `past` (the muxer rewrites the
    file as it goes, so a read may catch it half written: not yet, then)."""
    if load is None or "#EXT-X-ENDLIST" in load.text or 'type="static"' in load.text:
        return False
    try:
        p = load.parse()
    except ManifestError:
        return False
    return p.timeline.first_number + p.segment_count - 1 > past


def _last_number(load: Load) -> int:
    p = load.parse()
    return p.timeline.first_number + p.segment_count - 1


@pytest.fixture(scope="module")
def live_runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, LiveRun]]:
    """The three live muxers at once (about SECONDS s of wall time)."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("live")
    processes, manifests = {}, {}
    for name, muxer in MUXERS.items():
        (root / name).mkdir()
        manifests[name] = root / name / muxer[-1]
        processes[name] = subprocess.Popen(
            ["ffmpeg", "-v", "error", "-y", *SOURCE, *ENCODE, *muxer],
            cwd=root / name,
            stdin=subprocess.DEVNULL,
        )
    try:
        loads: dict[str, list[Load]] = {name: [] for name in MUXERS}
        deadline = time.monotonic() + SECONDS + 30
        while any(len(v) < 2 for v in loads.values()) and time.monotonic() < deadline:
            for name, manifest in manifests.items():
                taken = loads[name]
                # A few segments out first; then a reload once the window has moved on.
                past = _last_number(taken[0]) if taken else 2
                if len(taken) < 2 and (not taken or time.time() - taken[0].at_utc_s > 1.5):
                    load = _load(manifest)
                    if load is not None and _live_enough(load, past):
                        taken.append(load)
            time.sleep(0.1)
        for process in processes.values():
            assert process.wait(timeout=60) == 0
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    runs = {}
    for name, (early, later) in ((n, v[:2]) for n, v in loads.items() if len(v) >= 2):
        final = _load(manifests[name])
        assert final is not None
        runs[name] = LiveRun(early, later, final)
    if len(runs) != len(MUXERS):
        pytest.fail(
            f"the live muxers never served two live loads: {sorted(set(MUXERS) - set(runs))}"
        )
    yield runs


def local(url: str | None) -> str:
    assert url is not None
    return Path(unquote(urlparse(url).path)).name


def positions(p: Presentation) -> dict[int, float]:
    t = p.timeline
    return {t.first_number + i: t.start_s + p.segment_start_s(i) for i in range(p.segment_count)}


@pytest.mark.parametrize("name", sorted(MUXERS))
def test_ffmpeg_live_output_parses_refreshes_and_ends(
    live_runs: dict[str, LiveRun], name: str
) -> None:
    run = live_runs[name]
    early, later = run.early.parse(), run.later.parse()
    for load, p in ((run.early, early), (run.later, later)):
        assert p.timeline.live and not p.timeline.ended
        # Every segment the parse lists had been written (or, for the DASH muxer's
        # low-latency newest one, was being written) when the manifest was read.
        names = [local(s.url) for s in p.renditions[0].segments]
        written = [n in load.files for n in names]
        assert all(written[:-1]) and (written[-1] or f"{names[-1]}.tmp" in load.files)
        if p.renditions[0].init is not None:
            assert local(p.renditions[0].init.url) in load.files
        assert p.timeline.refresh_s is not None and p.timeline.window_s is not None
        # The muxers stamp wall-clock times: segments became available before the load.
        assert p.timeline.available_at_utc_s is not None
        assert max(p.timeline.available_at_utc_s) <= load.at_utc_s + 1.0
    refresh = refreshed(early, later)
    assert refresh.added >= 1 and not refresh.reset and not refresh.ended
    before, after = positions(early), positions(refresh.presentation)
    shared = before.keys() & after.keys()
    assert shared and all(after[n] == pytest.approx(before[n], abs=1e-3) for n in shared)
    # When the stream ends the muxer rewrites the manifest as VOD (static MPD / ENDLIST).
    final = run.final.parse()
    assert final.timeline.ended and not final.timeline.live
    assert refreshed(refresh.presentation, final).ended


def test_ffmpeg_low_latency_dash_offers_the_segment_being_written(
    live_runs: dict[str, LiveRun],
) -> None:
    """-ldash 1: each segment is offered availabilityTimeOffset (0.958 s) before it ends, so
    the newest one a load lists is still being written, and the MPD's UTCTiming is kept."""
    for load in (live_runs["dash_ldash"].early, live_runs["dash_ldash"].later):
        p = load.parse()
        t = p.timeline
        assert t.available_at_utc_s is not None and t.availability_start_utc_s is not None
        last = t.first_number + p.segment_count - 1  # $Number$ from 1, 1 s each
        assert t.available_at_utc_s[-1] == pytest.approx(t.availability_start_utc_s + last - 0.958)
        assert any(u.value == TIME_URL for u in t.utc_timing)


def test_shaka_packager_dynamic_mpd_by_number_and_by_time(
    ladder: Ladder, packager: Path, tmp_path: Path
) -> None:
    """Shaka's default MPD once segment templates are used is dynamic, its availability start
    the moment it packaged: segments become available as the clock passes their ends."""
    streams = []
    for kind, template in (("n", "$Number$"), ("t", "$Time$")):
        streams.append(
            f"in={ladder.mezzanine},stream=0,init_segment={kind}/init.m4s,"
            f"segment_template={kind}/{template}.m4s"
        )
    for stream, mpd in zip(streams, ("number.mpd", "time.mpd"), strict=True):
        args = [str(packager), stream, "--segment_duration", "2", "--mpd_output", mpd]
        subprocess.run(args, cwd=tmp_path, check=True, timeout=60, capture_output=True)
    for mpd, folder in (("number.mpd", "n"), ("time.mpd", "t")):
        text = (tmp_path / mpd).read_text()
        url = (tmp_path / mpd).as_uri()
        assert 'type="dynamic"' in text
        with pytest.raises(ManifestError, match="no segment is available yet"):
            parse_dash(text, url)  # at its publishTime, which is its availabilityStartTime
        start = parse_dash(text, url, now_utc_s=time.time() + 60).timeline.availability_start_utc_s
        assert start is not None
        half = parse_dash(text, url, now_utc_s=start + 4.5)
        whole = parse_dash(text, url, now_utc_s=start + ladder.seconds)
        assert (half.segment_count, whole.segment_count) == (2, ladder.segments)
        assert whole.timeline.live and whole.timeline.first_number == 1
        assert whole.timeline.window_s == 1800.0 and whole.timeline.refresh_s == 5.0
        rendition = whole.renditions[0]
        assert (
            rendition.init is not None and (tmp_path / folder / local(rendition.init.url)).is_file()
        )
        assert all((tmp_path / folder / local(s.url)).is_file() for s in rendition.segments)
        assert refreshed(half, whole).added == ladder.segments - 2


def test_two_shaka_runs_joined_as_periods_play_as_one_ladder(
    ladder: Ladder, packager: Path, tmp_path: Path
) -> None:
    """Two packagings (say, a programme and a break) as two Periods of one static MPD: one
    ladder of every segment, the second Period's segments naming its own init segments."""
    periods = []
    for part in ("show", "break"):
        streams = [
            f"in={ladder.mezzanine},stream={i},init_segment={part}/r{i}/init.m4s,"
            f"segment_template={part}/r{i}/seg-$Number%05d$.m4s"
            for i in range(len(ladder.heights))
        ]
        mpd = f"{part}.mpd"
        args = [str(packager), *streams, "--segment_duration", "2", "--mpd_output", mpd]
        args += ["--generate_static_live_mpd"]
        subprocess.run(args, cwd=tmp_path, check=True, timeout=60, capture_output=True)
        text = (tmp_path / mpd).read_text()
        period = text[text.index("<Period") : text.index("</Period>") + len("</Period>")]
        periods.append(period)
    # The show's Period says how long it lasts; the break's start follows from that.
    periods[0] = periods[0].replace(
        '<Period id="0"', f'<Period id="show" duration="PT{ladder.seconds:g}S"'
    )
    periods[1] = periods[1].replace('<Period id="0"', '<Period id="break"')
    head = (tmp_path / "show.mpd").read_text()
    head = re.sub(
        r'mediaPresentationDuration="[^"]*"',
        f'mediaPresentationDuration="PT{2 * ladder.seconds:g}S"',
        head[: head.index("<Period")],
    )
    joined = tmp_path / "joined.mpd"
    joined.write_text(head + "".join(periods) + "</MPD>\n")
    p = parse_dash(joined.read_text(), joined.as_uri())
    assert p.segment_count == 2 * ladder.segments
    assert p.duration_s == pytest.approx(2 * ladder.seconds, abs=0.1)
    assert [(x.id, x.first_segment) for x in p.timeline.periods] == [
        ("show", 0),
        ("break", ladder.segments),
    ]
    assert p.timeline.discontinuities == (ladder.segments,)
    for rendition in p.renditions:
        assert rendition.init is not None and "/show/" in rendition.init.url
        for i, segment in enumerate(rendition.segments):
            assert segment.url is not None and Path(urlparse(segment.url).path).is_file()
            own = segment.init.url if segment.init else rendition.init.url
            assert own is not None and Path(urlparse(own).path).is_file()
            assert ("/break/" in own) == (i >= ladder.segments) == ("/break/" in segment.url)
