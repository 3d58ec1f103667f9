"""What a viewer does with the window: pick a title with the remote's keys, watch it start at
a low rendition and climb, stop, and resume on another device where they left off; an
encrypted title plays with a valid session and explains itself without one."""

from __future__ import annotations

from pathlib import Path

import httpx
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from player.ui.app import PlayerOptions, PlayerWindow
from player.ui.controller import PlaybackRequest

from .conftest import Catalog

FIRST_FRAME_BOUND_S = 5.0  # generous: two loaded cores and a software renderer


def open_window(
    qtbot: QtBot, catalog: Catalog, state: Path, packaging: str = "dash"
) -> PlayerWindow:
    window = PlayerWindow(
        PlayerOptions(
            api_url=catalog.stack.api,
            username="alice",
            password="alice-pw",
            state_dir=state,
            audio=False,
            packaging=packaging,
        )
    )
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitUntil(lambda: bool(window.home.rows), timeout=20_000)
    return window


def card(window: PlayerWindow, video_id: str) -> object:
    return window.home.cards[video_id][-1]  # the "All titles" row is last


def continue_watching(catalog: Catalog) -> dict[str, dict[str, object]]:
    token = catalog.stack.token("alice")
    body = httpx.get(
        f"{catalog.stack.api}/api/v1/users/me/continue-watching",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    return {item["video_id"]: item for item in body["items"]}


def test_play_climb_pause_and_resume_on_another_device(
    qtbot: QtBot, catalog: Catalog, tmp_path: Path
) -> None:
    window = open_window(qtbot, catalog, tmp_path / "tv")
    qtbot.keyClick(card(window, catalog.clear), Qt.Key.Key_Return)
    assert window.currentWidget() is window.title_page
    assert window.title_page.resume_button.text() == "Play"
    qtbot.keyClick(window.title_page.resume_button, Qt.Key.Key_Return)
    controller = window.controller
    with qtbot.waitSignal(controller.first_frame, timeout=20_000) as first:
        pass
    ttff = first.args[0]
    assert ttff.first_frame_s < FIRST_FRAME_BOUND_S
    assert ttff.api_s is not None and ttff.api_s <= ttff.manifest_s <= ttff.first_frame_s
    # Low-rendition start, then the session climbs on the fast loopback link.
    qtbot.waitUntil(lambda: len(controller.renditions_played) >= 2, timeout=20_000)
    assert min(controller.renditions_played) == 0
    qtbot.waitUntil(lambda: controller.position_s() >= 5.0, timeout=20_000)
    qtbot.keyClick(window.playback, Qt.Key.Key_Space)  # pause: a progress report goes out
    paused_at = controller.position_s()
    qtbot.waitUntil(lambda: catalog.clear in continue_watching(catalog), timeout=10_000)
    stored = continue_watching(catalog)[catalog.clear]
    assert abs(float(stored["offset_seconds"]) - paused_at) < 1.0
    qtbot.keyClick(window.playback, Qt.Key.Key_Escape)
    # Back home, the rebuilt rows show their posters again (from the cache, no grey cards).
    qtbot.waitUntil(lambda: window.currentWidget() is window.home, timeout=10_000)
    qtbot.waitUntil(lambda: card(window, catalog.clear).poster is not None, timeout=5_000)
    tv_device = stored["device_id"]
    window.shutdown()

    # Another device opens the same title: it offers to resume at the first device's offset.
    laptop = open_window(qtbot, catalog, tmp_path / "laptop")
    qtbot.keyClick(card(laptop, catalog.clear), Qt.Key.Key_Return)
    assert laptop.title_page.resume_button.text().startswith("Resume from 0:0")
    assert laptop.title_page.resume_s == float(stored["offset_seconds"])
    qtbot.keyClick(laptop.title_page.resume_button, Qt.Key.Key_Return)
    with qtbot.waitSignal(laptop.controller.first_frame, timeout=20_000):
        pass
    # Playback starts at the segment holding the offset (2 s segments), not at the beginning.
    qtbot.waitUntil(lambda: laptop.controller.position_s() > 0, timeout=5_000)
    assert laptop.controller.position_s() >= paused_at - 2.5
    qtbot.keyClick(laptop.playback, Qt.Key.Key_Escape)
    qtbot.waitUntil(
        lambda: continue_watching(catalog)[catalog.clear]["device_id"] != tv_device, timeout=10_000
    )
    laptop.shutdown()


def test_encrypted_title_needs_a_valid_session(
    qtbot: QtBot, catalog: Catalog, tmp_path: Path
) -> None:
    window = open_window(qtbot, catalog, tmp_path / "tv")
    window._play(PlaybackRequest(video_id=catalog.locked))
    controller = window.controller
    with qtbot.waitSignal(controller.first_frame, timeout=20_000) as first:
        pass
    assert first.args[0].licence_s is not None  # the key came from the licence server
    # Decrypted media decodes: playback moves on through several segments.
    qtbot.waitUntil(lambda: controller.position_s() >= 3.0, timeout=20_000)
    window.playback.stop()

    assert window.api is not None
    window.api.token = "expired-or-forged"
    with qtbot.waitSignal(controller.failed, timeout=10_000) as failed:
        window._play(PlaybackRequest(video_id=catalog.locked))
    kind, reason = failed.args
    assert kind == "auth" and "401" in reason
    assert "Log in again" in window.playback.message.text
    # Back leads to the log-in screen, and logging in again brings the catalog back.
    qtbot.keyClick(window.playback, Qt.Key.Key_Escape)
    assert window.currentWidget() is window.login
    qtbot.keyClicks(window.login.username, "alice")
    qtbot.keyClicks(window.login.password, "alice-pw")
    qtbot.keyClick(window.login.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.currentWidget() is window.home, timeout=20_000)
    window.shutdown()


def test_skip_intro_subtitles_and_audio_menus(
    qtbot: QtBot, catalog: Catalog, tmp_path: Path
) -> None:
    window = open_window(qtbot, catalog, tmp_path / "tv")
    window._play(PlaybackRequest(video_id=catalog.clear))
    controller, screen = window.controller, window.playback
    # During the intro (2-8 s) a "Skip intro" button takes focus; Enter jumps past it.
    qtbot.waitUntil(screen.skip_intro.isVisible, timeout=20_000)
    assert screen.skip_intro.hasFocus()
    qtbot.keyClick(screen.skip_intro, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: controller.position_s() >= 7.5, timeout=10_000)
    assert not screen.skip_intro.isVisible()

    qtbot.keyClick(screen, Qt.Key.Key_S)
    assert screen.menu.isVisible()
    assert [screen.menu.items.item(i).text() for i in range(screen.menu.items.count())] == [
        "Off",
        "English",
    ]
    qtbot.keyClick(screen.menu.items, Qt.Key.Key_Down)
    qtbot.keyClick(screen.menu.items, Qt.Key.Key_Return)
    assert not screen.menu.isVisible() and screen.hasFocus()
    sink = controller.sink
    assert sink is not None
    qtbot.waitUntil(lambda: sink.player.sub_text == "Hello from the test pattern", timeout=10_000)

    qtbot.keyClick(screen, Qt.Key.Key_A)
    assert [screen.menu.items.item(i).text() for i in range(screen.menu.items.count())] == [
        "English",
        "French",
    ]
    assert screen.menu.items.currentRow() == 0
    qtbot.keyClick(screen.menu.items, Qt.Key.Key_Down)
    qtbot.keyClick(screen.menu.items, Qt.Key.Key_Return)
    engine = controller.engine
    assert engine is not None
    qtbot.waitUntil(lambda: engine.audio_track_id == engine.audio_tracks[1].id, timeout=5_000)

    def french_playing() -> bool:
        selected = [t for t in sink.player.track_list if t["type"] == "audio" and t.get("selected")]
        pts = sink.player.audio_pts
        return (
            len(selected) == 1
            and selected[0]["external-filename"].endswith(".1")
            and pts is not None
        )

    qtbot.waitUntil(french_playing, timeout=10_000)
    assert abs(sink.player.audio_pts - sink.player.time_pos) < 0.5  # in sync with the picture
    window.shutdown()


def test_aes128_hls_ts_plays_with_the_key_from_the_backend(
    qtbot: QtBot, catalog: Catalog, tmp_path: Path
) -> None:
    window = open_window(qtbot, catalog, tmp_path / "set-top-box", packaging="hls-ts")
    window._play(PlaybackRequest(video_id=catalog.locked))
    controller = window.controller
    with qtbot.waitSignal(controller.first_frame, timeout=20_000):
        pass
    engine = controller.engine
    assert engine is not None and engine.url.endswith(".m3u8") and "/ts/" in engine.url
    # The segments decrypt (with the JWT-protected key) and decode across rendition switches.
    qtbot.waitUntil(lambda: controller.position_s() >= 6.0, timeout=20_000)
    assert len(controller.renditions_played) >= 2
    assert engine.last_failure is None
    window.shutdown()


def test_hls_cmaf_plays_with_its_separate_audio(
    qtbot: QtBot, catalog: Catalog, tmp_path: Path
) -> None:
    window = open_window(qtbot, catalog, tmp_path / "tv", packaging="hls")
    window._play(PlaybackRequest(video_id=catalog.clear))
    controller = window.controller
    with qtbot.waitSignal(controller.first_frame, timeout=20_000):
        pass
    engine, sink = controller.engine, controller.sink
    assert engine is not None and sink is not None and engine.url.endswith("master.m3u8")
    assert [t.language for t in engine.audio_tracks] == ["eng", "fra"]
    qtbot.waitUntil(lambda: controller.position_s() >= 3.0, timeout=20_000)
    assert sink.player.audio_pts is not None  # the English track, fetched beside the video, plays
    assert abs(sink.player.audio_pts - sink.player.time_pos) < 0.5
    window.shutdown()
