"""The playback screen tells the viewer what is going on: retries when the network fails."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from player.ui.app import PlayerOptions, PlayerWindow
from player.ui.playback_screen import RETRY_MESSAGE, STALL_MESSAGE

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def test_failed_segment_downloads_show_a_retry_message_that_clears(
    qtbot: QtBot, server: tuple[str, Any], tmp_path: Path
) -> None:
    base, handler = server
    handler.faults["-00003.m4s"] = [503, 503]  # segment 3 of whichever rendition is asked for
    window = PlayerWindow(
        PlayerOptions(
            api_url=None, url=f"{base}/dash/manifest.mpd", state_dir=tmp_path, audio=False
        )
    )
    qtbot.addWidget(window)
    window.resize(960, 540)
    window.show()
    messages: list[str] = []
    window.controller.state.connect(lambda s: messages.append(window.playback.message.text))
    qtbot.waitUntil(lambda: any(m.startswith(RETRY_MESSAGE) for m in messages), timeout=20_000)
    shown = next(m for m in messages if m.startswith(RETRY_MESSAGE))
    assert "HTTP 503" in shown and "-00003.m4s" in shown
    # The retry succeeds: the message goes away and playback carries on into the last segment.
    qtbot.waitUntil(lambda: window.controller.position_s() > 6.5, timeout=30_000)
    assert not window.playback.message.text.startswith(RETRY_MESSAGE)
    window.shutdown()


def test_a_live_stall_says_why_and_a_stopped_channel_says_so(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The texts the controller emits for a live channel (Session.live_trouble while stalled,
    # SessionFailed of a live session): what the viewer reads. Nothing is played: the screen
    # alone, fed the controller's signals.
    monkeypatch.setattr(PlayerWindow, "_play", lambda self, request: None)
    window = PlayerWindow(
        PlayerOptions(api_url=None, url="http://127.0.0.1:9/x", state_dir=tmp_path, audio=False)
    )
    qtbot.addWidget(window)
    window.show()
    trouble = "the live playlist stopped updating (last change 9 s ago)"
    window.controller.state.emit(f"stalled: {trouble}")
    assert window.playback.message.text == f"{STALL_MESSAGE}\n{trouble}"
    window.controller.state.emit("playing")  # segments came back
    assert window.playback.message.text == ""
    reason = f"the live stream stopped: nothing new to play for 120 s; {trouble}"
    window.controller.failed.emit("live", reason)
    assert window.playback.message.text.startswith(f"The live channel stopped.\n\n{reason}")
    window.shutdown()
