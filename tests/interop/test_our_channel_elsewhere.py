"""Our live channel in other players: a real `serve --live-channel` (ffmpeg encoding the clock
pattern, origin, shield, nginx edge), its signed URLs from the API, played by stock libmpv
(python-mpv with its defaults, not our engine) and read by ffprobe; hls.js and dash.js in
headless Chromium when the machine has Chromium, node and local copies of both libraries."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
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


# A page that plays the URL with the library and posts how far its clock got.
_PAGE = """<!doctype html><html><body><video id="v" muted autoplay></video>
<script src="{script}"></script><script>
const url = {url}, video = document.getElementById("v");
if ({kind} === "hls") {{ const h = new Hls(); h.loadSource(url); h.attachMedia(video); }}
else {{ dashjs.MediaPlayer().create().initialize(video, url, true); }}
let first = null;
setInterval(() => {{
  if (first === null && video.currentTime > 0) first = video.currentTime;
  if (first !== null && video.currentTime >= first + {played}) {{
    fetch("/result", {{method: "POST", body: String(video.currentTime - first)}});
  }}
}}, 250);
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


class _PageHandler(SimpleHTTPRequestHandler):
    results: list[float]

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self.results.append(float(self.rfile.read(length)))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.mark.parametrize(("kind", "package"), [("hls", "hls.js"), ("dash", "dashjs")])
def test_hls_js_and_dash_js_play_the_channel_in_headless_chromium(
    channel: dict[str, str], kind: str, package: str, tmp_path: Path
) -> None:
    browser = _browser()
    library = _library(package)
    shutil.copy(library, tmp_path / "player.js")
    page = _PAGE.format(
        script="player.js", url=json.dumps(channel[kind]), kind=json.dumps(kind), played=PLAYED_S
    )
    (tmp_path / "index.html").write_text(page)
    results: list[float] = []
    handler = type("Handler", (_PageHandler,), {"results": results})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(tmp_path)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    # The page and the edge are different origins; the edge sends no CORS headers.
    args = [browser, "--headless=new", "--no-sandbox", "--disable-web-security"]
    args += ["--autoplay-policy=no-user-gesture-required", f"--user-data-dir={tmp_path / 'p'}"]
    chromium = subprocess.Popen(
        [*args, f"http://127.0.0.1:{httpd.server_address[1]}/index.html"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + PLAYED_S + 40
        while not results and time.monotonic() < deadline and chromium.poll() is None:
            time.sleep(0.25)
        assert results and results[0] >= PLAYED_S, f"{package} did not play {channel[kind]}"
    finally:
        chromium.terminate()
        chromium.wait(10)
        httpd.shutdown()
        httpd.server_close()
