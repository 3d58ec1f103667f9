"""Live channels through a real `serve --live-channel`: ffmpeg encoding the clock test
pattern, the origin, nginx shield and edge. One channel with 2 s segments and a 6 s DVR
window runs for the whole module; the encoder-restart test runs last."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from backend.helpers import REPO, Stack, start_serve, stop_serve
from backend_stub.auth import create_user
from backend_stub.db import session_factory

SEG = 2
DVR = 6
WINDOW = 3  # segments listed: DVR / SEG


def _encoders(data_dir: Path) -> list[int]:
    """Pids of ffmpeg processes writing into this data dir's live channels."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (
            cmdline
            and cmdline[0].endswith(b"ffmpeg")
            and any(str(data_dir / "live").encode() in arg for arg in cmdline)
        ):
            pids.append(int(proc.name))
    return pids


def _wait(what: str, check: object, timeout: float) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()  # type: ignore[operator]
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("live")
    proc, info = start_serve(
        data_dir,
        "--workers", "1",
        "--live-channel", "news",
        "--live-segment-seconds", str(SEG),
        "--live-dvr-seconds", str(DVR),
        "--device-cap", "mobile=360",
        "--debug-endpoints",
    )  # fmt: skip
    stack = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(stack.config.database_url)
    create_user(sessions, "alice", "alice-pw")
    sessions.kw["bind"].dispose()
    yield stack
    assert stop_serve(proc) == 0
    # Shutdown stops the encoders and removes what they wrote.
    assert _encoders(data_dir) == []
    assert not (data_dir / "live").exists() or not any((data_dir / "live").iterdir())
    assert not (data_dir / "store" / "media" / "live-news").exists()


@pytest.fixture(scope="module")
def manifest(live: Stack) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {live.token('alice')}"}

    def ready() -> dict[str, object] | None:
        resp = httpx.get(f"{live.api}/api/v1/videos/live-news/manifest", headers=headers)
        return resp.json() if resp.status_code == 200 else None

    return _wait("the channel to be READY", ready, 30)  # type: ignore[return-value]


def _get(url: str) -> httpx.Response:
    resp = httpx.get(url, timeout=10)
    resp.raise_for_status()
    return resp


def _media_playlist_url(manifest: dict[str, object], track: int = 0) -> str:
    return str(manifest["master_playlist_url"]).replace("master.m3u8", f"media_{track}.m3u8")


def _numbers(playlist: str) -> list[int]:
    return [int(n) for n in re.findall(r"seg-(\d+)\.m4s", playlist)]


def test_the_channel_is_listed_as_live_with_what_a_player_needs(
    live: Stack, manifest: dict[str, object]
) -> None:
    listed = {v["video_id"]: v for v in httpx.get(f"{live.api}/api/v1/videos").json()["videos"]}
    channel = listed["live-news"]
    assert channel["live"] is True
    assert channel["target_segment_seconds"] == SEG
    assert channel["dvr_seconds"] == DVR
    assert channel["duration_seconds"] is None
    assert [r["height"] for r in channel["renditions"]] == [240, 360, 480]
    assert manifest["live"] is True
    assert str(manifest["master_playlist_url"]).startswith(f"{live.edge}/t/")
    assert str(manifest["dash_manifest_url"]).endswith("/media/live-news/manifest.mpd")
    clock = httpx.get(f"{live.edge}/api/v1/time").text
    assert abs(datetime.fromisoformat(clock.replace("Z", "+00:00")).timestamp() - time.time()) < 2


def test_the_channel_card_shows_a_still_of_what_is_on(
    live: Stack, manifest: dict[str, object]
) -> None:
    def poster() -> str | None:
        listed = httpx.get(f"{live.api}/api/v1/videos").json()["videos"]
        return next(v["poster_url"] for v in listed if v["video_id"] == "live-news")

    url = str(_wait("the channel's still", poster, 20))
    assert url.startswith(f"{live.edge}/t/") and "/media/live-news/still-" in url  # signed
    resp = _get(url)
    assert resp.content[:3] == b"\xff\xd8\xff"  # a JPEG
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "stream=height", "-of", "csv=p=0", "-"],
        input=resp.content, capture_output=True, check=True,
    )  # fmt: skip
    assert probe.stdout.strip() == b"360"


def test_the_hls_playlist_slides_and_old_segments_are_deleted(
    live: Stack, manifest: dict[str, object]
) -> None:
    url = _media_playlist_url(manifest)
    first = _get(url).text
    assert "#EXT-X-ENDLIST" not in first
    assert "#EXT-X-PROGRAM-DATE-TIME:" in first
    oldest = _numbers(first)[0]
    # Once the window has moved past `oldest` by a window and a segment, it is gone.
    _wait(
        "the window to slide",
        lambda: _numbers(_get(url).text)[0] > oldest + WINDOW + 1,
        (2 * WINDOW + 4) * SEG + 10,
    )
    later = _get(url).text
    numbers = _numbers(later)
    assert len(numbers) == WINDOW
    assert numbers == list(range(numbers[0], numbers[0] + WINDOW))
    assert f"#EXT-X-MEDIA-SEQUENCE:{numbers[0]}" in later
    gone = url.replace("media_0.m3u8", f"r0/seg-{oldest:06d}.m4s")
    assert httpx.get(gone).status_code == 404
    on_disk = live.data_dir / "store" / "media" / "live-news" / "r0"
    assert not (on_disk / f"seg-{oldest:06d}.m4s").exists()
    assert len(list(on_disk.glob("seg-*.m4s"))) <= 2 * WINDOW + 2


def test_the_mpd_is_dynamic_and_names_segments_that_exist(manifest: dict[str, object]) -> None:
    url = str(manifest["dash_manifest_url"])
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011"}

    def full() -> ET.Element | None:
        """The MPD once its newest Period lists a whole window (a young channel lists less)."""
        mpd = ET.fromstring(_get(url).text)
        newest = mpd.findall("d:Period", ns)[-1]
        template = newest.find(".//d:SegmentTemplate", ns)
        assert template is not None
        count = sum(int(s.get("r", "0")) + 1 for s in template.iterfind(".//d:S", ns))
        return mpd if count >= WINDOW else None

    mpd: ET.Element = _wait("a whole window in the MPD", full, 8 * SEG * WINDOW)  # type: ignore[assignment]
    assert mpd.get("type") == "dynamic"
    assert mpd.get("availabilityStartTime")
    assert mpd.get("timeShiftBufferDepth") == f"PT{DVR:.3f}S"
    assert mpd.get("minimumUpdatePeriod") == f"PT{SEG:.3f}S"
    timing = mpd.find("d:UTCTiming", ns)
    assert timing is not None and timing.get("value", "").endswith("/api/v1/time")
    base = url.rsplit("/", 1)[0]
    listed: dict[str, int] = {}  # by representation: segments over every Period
    for rep in mpd.iterfind(".//d:Representation", ns):
        template = rep.find("d:SegmentTemplate", ns)
        assert template is not None
        count = sum(int(s.get("r", "0")) + 1 for s in template.iterfind(".//d:S", ns))
        start = int(template.get("startNumber", "0"))
        rid = str(rep.get("id"))
        listed[rid] = listed.get(rid, 0) + count
        init = template.get("initialization", "").replace("$RepresentationID$", rid)
        assert httpx.get(f"{base}/{init}").status_code == 200
        for number in (start, start + count - 1):
            seg = httpx.get(f"{base}/r{rid}/seg-{number:06d}.m4s")
            assert seg.status_code == 200, (rid, number)
            assert seg.content[4:8] in (b"styp", b"moof")
    assert listed == dict.fromkeys(("0", "1", "2", "3"), WINDOW)  # every track, the window


def test_the_edge_refuses_unsigned_and_forged_live_urls(
    live: Stack, manifest: dict[str, object]
) -> None:
    assert httpx.get(f"{live.edge}/media/live-news/master.m3u8").status_code == 403
    signed = str(manifest["master_playlist_url"])
    token = signed.split("/t/", 1)[1].split("/", 1)[0]
    forged = signed.replace(token, token[:-4] + "AAAA")
    assert httpx.get(forged).status_code == 403
    other = signed.replace("/media/live-news/", "/media/live-other/")
    assert httpx.get(other).status_code == 403


def test_playlists_are_cached_until_the_next_version_and_fetched_once_per_refresh(
    live: Stack, manifest: dict[str, object]
) -> None:
    url = str(manifest["dash_manifest_url"])
    key = "media/live-news/manifest.mpd"
    mpd_path = live.data_dir / "store" / key
    before = live.fetches(key)
    samples: list[tuple[float, str]] = []  # (received at, publishTime) through the edge
    versions: set[str] = set()  # every publishTime the origin's file had
    lock = threading.Lock()
    duration = 5.0
    stop_at = time.time() + duration

    def client() -> None:
        with httpx.Client(timeout=10) as c:
            while time.time() < stop_at:
                body = c.get(url).text
                published = ET.fromstring(body).get("publishTime", "")
                with lock:
                    samples.append((time.time(), published))
                time.sleep(0.05)

    threads = [threading.Thread(target=client) for _ in range(20)]
    for t in threads:
        t.start()
    while time.time() < stop_at:
        try:
            published = ET.fromstring(mpd_path.read_text()).get("publishTime", "")
            versions.add(published)
        except (ET.ParseError, FileNotFoundError):
            pass
        time.sleep(0.02)
    for t in threads:
        t.join()
    fetched = live.fetches(key) - before
    # Each tier keeps a version until the second after the next one is due: one origin fetch
    # per version published, plus the first miss and one late publication.
    assert 1 <= fetched <= len(versions) + 2, (fetched, len(versions))
    assert len(samples) > 200

    def epoch(iso: str) -> float:
        return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()

    newer = sorted(epoch(v) for v in versions)
    worst = 0.0
    for received, published in samples:
        # How long the version the edge gave had already been superseded at the origin.
        superseded = [v for v in newer if epoch(published) < v <= received]
        if superseded:
            worst = max(worst, received - superseded[0])
    assert worst <= SEG / 2 + 0.2, worst


def test_ffmpeg_plays_the_channel_over_hls_and_dash(manifest: dict[str, object]) -> None:
    for url in (manifest["master_playlist_url"], manifest["dash_manifest_url"]):
        proc = subprocess.run(
            ["ffmpeg", "-v", "error", "-i", str(url), "-t", "4", "-f", "null", "-"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, (url, proc.stderr[-800:])


def test_an_encoder_restart_is_a_discontinuity_and_numbers_go_on(
    live: Stack, manifest: dict[str, object]
) -> None:
    url = _media_playlist_url(manifest)
    before = _get(url).text
    last_before = _numbers(before)[-1]
    assert "#EXT-X-DISCONTINUITY\n" not in before
    [pid] = _encoders(live.data_dir)
    subprocess.run(["kill", "-9", str(pid)], check=True)

    def restarted() -> str | None:
        text = _get(url).text
        return text if "#EXT-X-DISCONTINUITY\n" in text else None

    after = str(_wait("a discontinuity at the edge", restarted, 5 * SEG + 5))
    numbers = _numbers(after)
    assert numbers[-1] > last_before
    assert numbers == sorted(set(numbers))
    # The new run has its own init segment, after the discontinuity.
    tail = after.split("#EXT-X-DISCONTINUITY\n", 1)[1]
    assert tail.startswith('#EXT-X-MAP:URI="r0/init-1.m4s"')
    assert _encoders(live.data_dir) != [pid]
    mpd = ET.fromstring(_get(str(manifest["dash_manifest_url"])).text)
    periods = mpd.findall("{urn:mpeg:dash:schema:mpd:2011}Period")
    assert [p.get("id") for p in periods] == ["p0", "p1"]
    # Players continue: a third-party client plays across it.
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", url, "-t", "4", "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-800:]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--live-channel", "News!"], "--live-channel 'News!': name 'News!' must be"),
        (["--live-channel", "a=/no/such.mp4"], "source '/no/such.mp4' is not a file"),
        (["--live-channel", "a", "--live-channel", "a"], "names must differ"),
        (["--live-channel", "a", "--live-dvr-seconds", "4"], "--live-dvr-seconds must be"),
        (["--live-channel", "a", "--live-segment-seconds", "1"], "--live-segment-seconds must"),
    ],
)
def test_bad_live_options_exit_2_naming_the_option(
    tmp_path: Path, args: list[str], needle: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "streamlab.commands.serve", "--data-dir", str(tmp_path),
         "--api-port", "0", "--edge-port", "0", "--shield-port", "0", *args],
        capture_output=True, text=True, cwd=REPO, timeout=30,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr
    assert "Traceback" not in proc.stderr


def test_live_channels_refuse_an_s3_store(tmp_path: Path, s3_url: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "streamlab.commands.serve", "--data-dir", str(tmp_path),
         "--api-port", "0", "--edge-port", "0", "--shield-port", "0",
         "--live-channel", "a", "--store-url", s3_url],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert "--live-channel needs a filesystem store" in proc.stderr
