"""Our live channel in other players: a real `serve --live-channel` (ffmpeg encoding the clock
pattern, origin, shield, nginx edge), its signed URLs from the API, played by stock libmpv
(python-mpv with its defaults, not our engine) and read by ffprobe; hls.js and dash.js in
headless Chromium, the channel and a `--demo-catalog` title, when the machine has Chromium,
node and local copies of both libraries."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from backend.helpers import Stack, skip_unless_tools, start_serve, stop_serve

from backend_stub.auth import create_user
from backend_stub.db import session_factory

pytestmark = pytest.mark.slow
skip_unless_tools("the channel interop tests", "ffmpeg", "ffprobe", "nginx")

SEG = 2
PLAYED_S = 10.0  # how far another player's clock must move on the channel
URLS = {"hls": "master_playlist_url", "dash": "dash_manifest_url"}


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The channel's signed manifest URLs through the edge, once it is READY."""
    data_dir = tmp_path_factory.mktemp("channel")
    proc, info = start_serve(
        data_dir, "--workers", "1", "--live-channel", "news",
        "--live-segment-seconds", str(SEG), "--live-dvr-seconds", "30",
    )  # fmt: skip
    try:
        stack = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
        sessions = session_factory(stack.config.database_url)
        create_user(sessions, "alice", "alice-pw")
        sessions.kw["bind"].dispose()
        headers = {"Authorization": f"Bearer {stack.token('alice')}"}
        deadline = time.monotonic() + 40
        while True:
            resp = httpx.get(f"{stack.api}/api/v1/videos/live-news/manifest", headers=headers)
            if resp.status_code == 200:
                break
            assert time.monotonic() < deadline, f"the channel never became READY: {resp.text}"
            time.sleep(0.5)
        manifest = resp.json()
        assert manifest["live"] is True
        urls = {kind: str(manifest[key]) for kind, key in URLS.items()}
        assert all(url.startswith(f"{stack.edge}/t/") for url in urls.values())  # signed
        # A few segments in the window, so players that start far back have media to play.
        time.sleep(3 * SEG)
        yield urls
    finally:
        stop_serve(proc)


@pytest.mark.parametrize("kind", sorted(URLS))
def test_stock_libmpv_plays_the_channel(channel: dict[str, str], kind: str) -> None:
    mpv = pytest.importorskip("mpv", reason="python-mpv needs libmpv (make test installs libmpv2)")
    player = mpv.MPV(vo="null", ao="null")
    try:
        player.play(channel[kind])
        first: float | None = None
        latest: float | None = None
        deadline = time.monotonic() + PLAYED_S + 30
        while time.monotonic() < deadline:
            latest = player.time_pos
            if latest is not None and first is None:
                first = latest
            if first is not None and latest is not None and latest >= first + PLAYED_S:
                break
            time.sleep(0.25)
        assert first is not None, f"libmpv never started playing {channel[kind]}"
        assert latest is not None and latest >= first + PLAYED_S, (first, latest)
    finally:
        player.terminate()


@pytest.mark.parametrize("kind", sorted(URLS))
def test_ffprobe_lists_the_channels_streams(channel: dict[str, str], kind: str) -> None:
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_streams", "-of", "json", channel[kind]],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr
    streams = json.loads(probe.stdout)["streams"]
    video = [s for s in streams if s["codec_type"] == "video"]
    assert video and all(s["codec_name"] == "h264" and s["height"] > 0 for s in video)
    assert {s["height"] for s in video} >= {240, 360}  # the ladder's rungs, not one stream


# A page that plays the URL with the library and posts what happened: every error the player
# reports, and, once its clock has moved `goal` media seconds past the first frame or the
# media has ended, how far it got, how long the first frame took from the page's start, and
# how often it waited.
_PAGE = """<!doctype html><html><body><video id="v" muted autoplay></video>
<script src="player.js"></script><script>
const url = {url}, kind = {kind}, goal = {played}, video = document.getElementById("v");
const t0 = performance.now();
const post = (path, body) => fetch(path, {{method: "POST", body: JSON.stringify(body)}});
window.addEventListener("error", (e) => post("/error", `page: ${{e.message}}`));
if (kind === "hls") {{
  const hls = new Hls();
  hls.on(Hls.Events.ERROR, (_, d) => post(d.fatal ? "/error" : "/note",
    `hls.js ${{d.type}} ${{d.details}} ${{d.response?.code ?? ""}} ${{d.url ?? d.frag?.url ?? ""}} ${{d.error ?? d.reason ?? ""}}`));
  hls.loadSource(url);
  hls.attachMedia(video);
}} else {{
  const player = dashjs.MediaPlayer().create();
  player.on(dashjs.MediaPlayer.events.ERROR, (e) => post("/error", `dash.js ${{e.error.code}} ${{e.error.message}}`));
  player.initialize(video, url, true);
}}
let first = null, firstFrameS = null, waits = 0, done = false;
video.requestVideoFrameCallback((now, frame) => {{
  first = frame.mediaTime;
  firstFrameS = (now - t0) / 1000;
}});
video.addEventListener("waiting", () => {{ if (first !== null) waits += 1; }});
const report = () => {{
  if (done || first === null) return;
  done = true;
  post("/result", {{played_s: video.currentTime - first, first_frame_s: firstFrameS, waits,
                    ended: video.ended}});
}};
video.addEventListener("ended", report);
setInterval(() => {{ if (first !== null && video.currentTime >= first + goal) report(); }}, 250);
</script></body></html>"""


def _browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no chromium/google-chrome on PATH: hls.js and dash.js cannot be tried here")


def _library(package: str) -> Path:
    """A local copy of an npm package's browser build (node resolves it among the global
    modules); skips when there is none, as nothing is downloaded here."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("no node on PATH to find local copies of hls.js and dash.js")
    npm = shutil.which("npm")
    npm_root = (
        ""
        if npm is None
        else subprocess.run(
            [npm, "root", "-g"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
    )
    found = subprocess.run(
        [node, "-e", f"console.log(require.resolve({json.dumps(package)}))"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"NODE_PATH": npm_root, "PATH": ""},
    )
    if found.returncode != 0:
        pytest.skip(f"no local copy of {package} (npm install -g {package}); not downloaded here")
    return Path(found.stdout.strip())


@dataclass
class _PageReport:
    """What the page posted: `result` once it has played its goal or the media has ended, and
    the player's errors (`errors`: fatal, and requests the browser refused; `notes`: those it
    recovers from, and the rest of the console)."""

    result: dict[str, float | bool] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class _PageHandler(SimpleHTTPRequestHandler):
    report: _PageReport

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length))
        if self.path == "/result":
            self.report.result.update(body)
        else:
            (self.report.errors if self.path == "/error" else self.report.notes).append(body)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


def _play_in_chromium(
    browser: str, library: Path, kind: str, url: str, played_s: float, tmp_path: Path
) -> _PageReport:
    """Plays `url` with the library's player in headless Chromium, from a page on its own
    origin (as a web app's would be: every request to the edge is cross-origin), until the
    page reports `played_s` of media played, a fatal error, or time runs out."""
    shutil.copy(library, tmp_path / "player.js")
    page = _PAGE.format(url=json.dumps(url), kind=json.dumps(kind), played=played_s)
    (tmp_path / "index.html").write_text(page)
    report = _PageReport()
    handler = type("Handler", (_PageHandler,), {"report": report})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    args = [browser, "--headless=new", "--no-sandbox", "--enable-logging=stderr", "--v=0"]
    args += ["--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'p'}"]
    console = (tmp_path / "chromium.log").open("wb")
    chromium = subprocess.Popen(
        [*args, f"http://127.0.0.1:{httpd.server_address[1]}/index.html"],
        stdout=subprocess.DEVNULL,
        stderr=console,
    )
    try:
        # Generous: the page reports as soon as it is done, and a loaded machine can take
        # half a minute just to start Chromium.
        deadline = time.monotonic() + played_s + 90
        while (
            not report.result
            and not report.errors
            and time.monotonic() < deadline
            and chromium.poll() is None
        ):
            time.sleep(0.25)
    finally:
        chromium.terminate()
        chromium.wait(10)
        console.close()
        httpd.shutdown()
        httpd.server_close()
    lines = (tmp_path / "chromium.log").read_text(errors="replace").splitlines()
    console = [line for line in lines if "CONSOLE" in line]
    # A request the browser refused is a defect even when the player gets by without it
    # (dash.js falls back to another clock when UTCTiming is refused).
    report.errors += [line for line in console if "blocked by CORS policy" in line]
    report.notes += [line for line in console if "blocked by CORS policy" not in line]
    return report


LIBRARIES = [("hls", "hls.js"), ("dash", "dashjs")]


@pytest.mark.parametrize(("kind", "package"), LIBRARIES)
def test_hls_js_and_dash_js_play_the_channel_in_headless_chromium(
    channel: dict[str, str], kind: str, package: str, tmp_path: Path
) -> None:
    report = _play_in_chromium(
        _browser(), _library(package), kind, channel[kind], PLAYED_S, tmp_path
    )
    print(f"{package} on the channel: {report.result}")
    what = f"{package} on {channel[kind]}: errors {report.errors}, notes {report.notes}"
    assert not report.errors, what
    assert report.result.get("played_s", 0) >= PLAYED_S, what


DEMO_SECONDS = 12


@pytest.fixture(scope="module")
def demo_title(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The first `--demo-catalog` title to be READY: its signed URLs through the edge."""
    # The catalog takes a minute to make: only where a browser and both players are.
    _browser()
    for _kind, package in LIBRARIES:
        _library(package)
    data_dir = tmp_path_factory.mktemp("demo")
    proc, info = start_serve(
        data_dir, "--workers", "1", "--preset", "ultrafast",
        "--demo-catalog", "--demo-seconds", str(DEMO_SECONDS),
    )  # fmt: skip
    try:
        token = httpx.post(
            f"{info['api']}/api/v1/auth/token", json={"username": "demo", "password": "demo"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 180
        while True:
            videos = httpx.get(f"{info['api']}/api/v1/videos", headers=headers).json()["videos"]
            ready = [v for v in videos if not v["live"] and v["status"] == "READY"]
            if ready:
                break
            assert time.monotonic() < deadline, f"no demo title became READY: {videos}"
            time.sleep(1)
        resp = httpx.get(
            f"{info['api']}/api/v1/videos/{ready[0]['video_id']}/manifest", headers=headers
        )
        resp.raise_for_status()
        yield {kind: str(resp.json()[key]) for kind, key in URLS.items()}
    finally:
        stop_serve(proc)


@pytest.mark.parametrize(("kind", "package"), LIBRARIES)
def test_hls_js_and_dash_js_play_a_demo_title_to_its_end_in_headless_chromium(
    demo_title: dict[str, str], kind: str, package: str, tmp_path: Path
) -> None:
    report = _play_in_chromium(
        _browser(), _library(package), kind, demo_title[kind], DEMO_SECONDS, tmp_path
    )
    print(f"{package} on a demo title: {report.result}")
    what = f"{package} on {demo_title[kind]}: errors {report.errors}, notes {report.notes}"
    assert not report.errors, what
    assert report.result.get("ended") is True, what
    assert report.result["played_s"] >= DEMO_SECONDS - 0.15, what  # dash.js stops at 11.9
