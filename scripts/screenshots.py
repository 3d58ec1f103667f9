"""`make screenshots`: the player's screens as PNGs under docs/screenshots/, for the README.

Starts `streamlab serve --demo-catalog` in a temporary data dir (or uses `--api URL`), opens
the player window offscreen (libmpv's software renderer: no display needed), drives it with
key presses like a remote would, and saves: the home screen, the playback screen with the
stats overlay, the seek bar showing a trick-play thumbnail, and the demo live channel
(`clock`) playing at its live edge with the stats overlay (LIVE badge, DVR seek bar, latency).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import httpx
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from player.ui.app import PlayerOptions, PlayerWindow
from streamlab.commands.serve import DEMO_CHANNEL


def wait_for(app: QApplication, condition: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: timed out after {timeout_s:g} s waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def start_backend(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    cmd = [
        sys.executable, "-m", "streamlab.cli", "serve", "--demo-catalog", "--demo-seconds", "40",
        "--preset", "ultrafast", "--data-dir", str(data_dir),
        "--api-port", "0", "--edge-port", "0", "--shield-port", "0",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise SystemExit("screenshots: streamlab serve exited before it was up")
    return proc, json.loads(line)["api"]


def wait_until_ready(api: str, timeout_s: float = 300.0) -> None:
    """Until every demo title and the channel is READY: the player reads the catalog once, at
    log-in, so a title still transcoding then would be missing from the shots."""
    deadline = time.monotonic() + timeout_s
    while True:
        videos = httpx.get(f"{api}/api/v1/videos", timeout=10).json()["videos"]
        if videos and all(v["status"] == "READY" for v in videos):
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"screenshots: the demo catalog was not READY after {timeout_s:g} s")
        time.sleep(1.0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--api", help="use this backend instead of starting one")
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    backend = None
    with tempfile.TemporaryDirectory() as tmp:
        api = args.api
        if api is None:
            backend, api = start_backend(Path(tmp) / "serve")
            wait_until_ready(api)
        try:
            shoot(api, Path(tmp) / "state", args.out)
        finally:
            if backend is not None:
                backend.send_signal(signal.SIGTERM)
                backend.wait(30)
    return 0


def shoot(api: str, state_dir: Path, out: Path) -> None:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    window = PlayerWindow(PlayerOptions(api_url=api, state_dir=state_dir, audio=False))
    window.resize(1600, 900)
    window.show()
    wait_for(
        app,
        # Live channels have no poster: wait for every title's.
        lambda: (
            bool(window.home.rows)
            and len(window.posters) >= sum(not t.live for t in window.titles.values())
        ),
        120,
        "the catalog",
    )
    window.grab().save(str(out / "home.png"))
    # The longest title, from its start: enough playback for the stats chart to fill in.
    longest = max((t for t in window.titles.values() if not t.live), key=lambda t: t.duration_s)
    QTest.keyClick(window.home.cards[longest.video_id][-1], Qt.Key.Key_Return)
    wait_for(app, lambda: window.currentWidget() is window.title_page, 10, "the title page")
    page = window.title_page
    start = page.start_button if page.start_button.isVisible() else page.resume_button
    QTest.keyClick(start, Qt.Key.Key_Return)
    controller = window.controller
    wait_for(app, lambda: len(window.playback.stats.samples) >= 12, 60, "playback")
    QTest.keyClick(window.playback, Qt.Key.Key_I)
    wait_for(app, lambda: len(window.playback.stats.samples) >= 20, 30, "more playback")
    window.grab().save(str(out / "playback-stats.png"))
    QTest.keyClick(window.playback, Qt.Key.Key_I)
    wait_for(app, lambda: bool(window.playback.sprites), 30, "the thumbnail sprite")
    QTest.keyClick(window.playback, Qt.Key.Key_Right)
    QTest.keyClick(window.playback, Qt.Key.Key_Right)
    app.processEvents()
    window.grab().save(str(out / "seek-thumbnail.png"))
    print(controller.ttff.line())
    shoot_live(app, window, out)
    window.shutdown()
    window.close()


def shoot_live(app: QApplication, window: PlayerWindow, out: Path) -> None:
    """Back home, the demo channel from the Live now row, shot once it plays at the edge."""
    QTest.keyClick(window.playback, Qt.Key.Key_Escape)
    wait_for(app, lambda: window.currentWidget() is window.home, 30, "the home screen")
    channel = next(
        t for t in window.titles.values() if t.live and t.video_id == f"live-{DEMO_CHANNEL}"
    )
    QTest.keyClick(window.home.cards[channel.video_id][0], Qt.Key.Key_Return)
    badge, stats = window.playback.live_badge, window.playback.stats
    wait_for(app, lambda: badge.isVisible() and bool(badge.at_edge), 60, "the live edge")
    QTest.keyClick(window.playback, Qt.Key.Key_I)
    # Enough samples after joining for the chart, and still at the edge when shot.
    seen = len(stats.samples)
    wait_for(app, lambda: len(stats.samples) >= seen + 20 and bool(badge.at_edge), 60, "live play")
    window.grab().save(str(out / "live.png"))


if __name__ == "__main__":
    sys.exit(main())
