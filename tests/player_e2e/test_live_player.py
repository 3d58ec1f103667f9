"""A live channel in the window, against a real `serve --live-channel` (ffmpeg encoding the
clock pattern, origin, shield and edge): the Live now row, a start at the live edge with the
LIVE badge, latency near its target, go-live after a pause, and an encoder killed mid-play;
and an encrypted channel (`--encrypt`) that plays with the ClearKey licence of a valid
session and refuses a forged token."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from backend.helpers import Stack, start_serve, stop_serve
from backend.test_live import _encoders
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from backend_stub.auth import create_user
from backend_stub.db import session_factory
from player.ui.app import PlayerOptions, PlayerWindow
from player.ui.controller import PlaybackRequest

SEG = 2
CHANNEL = "live-news"


def _serve_channel(data_dir: Path, name: str, *extra: str) -> Stack:
    proc, info = start_serve(
        data_dir, "--workers", "1", "--live-channel", name,
        "--live-segment-seconds", str(SEG), "--live-dvr-seconds", "30", *extra,
    )  # fmt: skip
    stack = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(stack.config.database_url)
    create_user(sessions, "alice", "alice-pw")
    sessions.kw["bind"].dispose()
    return stack


@pytest.fixture(scope="module")
def channel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    stack = _serve_channel(tmp_path_factory.mktemp("live-ui"), "news")
    yield stack
    stop_serve(stack.proc)


def _wait_ready(stack: Stack, video_id: str) -> None:
    deadline = time.monotonic() + 40
    while not any(
        v["video_id"] == video_id and v["status"] == "READY"
        for v in httpx.get(f"{stack.api}/api/v1/videos").json()["videos"]
    ):
        assert time.monotonic() < deadline, f"{video_id} never became READY"
        time.sleep(0.5)


def _window(qtbot: QtBot, stack: Stack, state: Path) -> PlayerWindow:
    window = PlayerWindow(
        PlayerOptions(
            api_url=stack.api,
            username="alice",
            password="alice-pw",
            state_dir=state,
            audio=False,
        )
    )
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitUntil(lambda: bool(window.home.rows), timeout=20_000)
    return window


def latency(window: PlayerWindow) -> float:
    engine = window.controller.engine
    assert engine is not None
    value = engine.session.live_latency_s
    assert value is not None
    return value


def test_a_channel_plays_at_the_edge_goes_live_and_survives_an_encoder_restart(
    qtbot: QtBot, channel: Stack, tmp_path: Path
) -> None:
    # The channel is READY once every track has a segment.
    _wait_ready(channel, CHANNEL)
    window = _window(qtbot, channel, tmp_path)
    # Live now comes first, and the channel is in no other row.
    assert window.home.rows[0].cards[0].video_id == CHANNEL
    assert window.home.rows[0].cards[0].live
    assert all(CHANNEL not in [c.video_id for c in row.cards] for row in window.home.rows[1:])

    # Enter on the channel plays it at once (no title page), at the live edge.
    qtbot.keyClick(window.home.rows[0].cards[0], Qt.Key.Key_Return)
    assert window.currentWidget() is window.playback
    controller = window.controller
    with qtbot.waitSignal(controller.first_frame, timeout=20_000) as first:
        pass
    assert first.args[0].first_frame_s < 6.0
    badge = window.playback.live_badge
    qtbot.waitUntil(badge.isVisible, timeout=5_000)
    assert badge.at_edge
    assert controller.engine is not None and controller.engine.live
    target = 3 * SEG  # the default: three segments
    qtbot.wait(8_000)
    assert abs(latency(window) - target) < 2.5
    assert controller.progress is not None and not controller._progress_timer.isActive()

    # Paused for a while, the playhead falls behind: the badge turns grey; L goes live again.
    qtbot.keyClick(window.playback, Qt.Key.Key_Space)
    qtbot.wait(10_000)
    qtbot.keyClick(window.playback, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: badge.at_edge is False, timeout=5_000)
    assert latency(window) > 1.5 * target
    qtbot.keyClick(window.playback, Qt.Key.Key_L)
    qtbot.waitUntil(lambda: latency(window) < target + 2.5, timeout=15_000)
    qtbot.waitUntil(lambda: badge.at_edge is True, timeout=5_000)

    # The encoder dies: the channel restarts after a discontinuity and playback goes on.
    for pid in _encoders(channel.data_dir):
        os.kill(pid, signal.SIGKILL)
    before = controller.position_s()
    qtbot.wait(12_000)
    assert controller.position_s() > before + 6.0  # media time went on through the restart
    assert window.playback.failed_kind is None
    qtbot.waitUntil(lambda: latency(window) < target + 4.0, timeout=10_000)
    qtbot.keyClick(window.playback, Qt.Key.Key_Escape)
    # Home again: the channel's card shows a still of what is on, under its LIVE tag.
    qtbot.waitUntil(lambda: window.currentWidget() is window.home, timeout=10_000)
    qtbot.waitUntil(lambda: window.home.rows[0].cards[0].poster is not None, timeout=10_000)
    window.shutdown()


def test_an_encrypted_channel_plays_with_a_licence_and_not_with_a_forged_token(
    qtbot: QtBot, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    stack = _serve_channel(tmp_path_factory.mktemp("live-locked"), "locked", "--encrypt")
    try:
        _wait_ready(stack, "live-locked")
        window = _window(qtbot, stack, tmp_path)
        window._play(PlaybackRequest(video_id="live-locked"))
        controller = window.controller
        with qtbot.waitSignal(controller.first_frame, timeout=20_000) as first:
            pass
        assert first.args[0].licence_s is not None  # the key came from the licence server
        assert controller.engine is not None and controller.engine.live
        # Decrypted media decodes: the playhead moves through several segments, near the edge.
        start = controller.position_s()
        qtbot.waitUntil(lambda: controller.position_s() >= start + 2 * SEG, timeout=20_000)
        assert abs(latency(window) - 3 * SEG) < 2.5
        assert window.playback.failed_kind is None
        window.playback.stop()

        assert window.api is not None
        window.api.token = "expired-or-forged"
        with qtbot.waitSignal(controller.failed, timeout=10_000) as failed:
            window._play(PlaybackRequest(video_id="live-locked"))
        kind, reason = failed.args
        assert kind == "auth" and "401" in reason
        window.shutdown()
    finally:
        stop_serve(stack.proc)
