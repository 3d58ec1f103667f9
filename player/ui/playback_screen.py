"""The playback screen: the picture, and over it the seek bar, skip intro, stats and messages.

Keys (a remote's buttons map to these): Space/Play pauses, Left/Right seek 10 s (the
thumbnail of the target shows while keys keep coming; the seek happens when they stop),
`i` stats, `s` subtitles menu, `a` audio menu, Enter on "Skip intro", Escape/Back stops.
A live channel: `L` (or the remote's red button) and the LIVE badge go back to the live edge;
the seek bar spans the DVR window, Left/Right move within it.
"""

from __future__ import annotations

import functools

from PySide6.QtCore import QEvent, QLocale, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QPixmap, QResizeEvent
from PySide6.QtWidgets import QPushButton, QWidget

from player.api import PlaybackInfo
from player.thumbnails import Thumbnail, parse_thumbnail_vtt, thumbnail_at
from player.ui.controller import PlaybackController, PlaybackRequest, StatsSample, Ttff
from player.ui.overlays import LiveBadge, MessageBanner, SeekBar, StatsOverlay
from player.ui.track_menu import TrackMenu
from player.ui.video_widget import VideoWidget, make_video_widget

SEEK_STEP_S = 10.0
SEEK_COMMIT_MS = 700
CONTROLS_HIDE_MS = 4000
STALL_MESSAGE = "Buffering…"
RETRY_MESSAGE = "Network trouble: retrying…"


def language_name(code: str) -> str:
    """ "fra" or "fr" -> "French"; unknown codes as they are."""
    language = QLocale(code).language()
    if language in (QLocale.Language.C, QLocale.Language.AnyLanguage) or code.lower() == "und":
        return code
    return QLocale.languageToString(language)


class PlaybackScreen(QWidget):
    back = Signal()

    def __init__(self, controller: PlaybackController) -> None:
        super().__init__()
        self.controller = controller
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.video: VideoWidget = make_video_widget(self)
        self.seek_bar = SeekBar(self)
        self.stats = StatsOverlay(self)
        self.stats.hide()
        self.message = MessageBanner(self)
        self.menu = TrackMenu(self)
        self.skip_intro = QPushButton("Skip intro", self)
        self.skip_intro.hide()
        self.skip_intro.clicked.connect(self._skip_intro)
        self.skip_intro.installEventFilter(self)
        self.live_badge = LiveBadge(self)
        self.live_badge.hide()
        self.live_badge.clicked.connect(self._go_live)
        self.live_badge.installEventFilter(self)
        self.info: PlaybackInfo | None = None
        self.thumbs: list[Thumbnail] = []
        self.sprites: dict[str, QPixmap] = {}
        self.subtitle_index = -1  # -1: off
        self.failed_kind: str | None = None  # set when playback failed; Back then goes on from it
        self._seek_timer = QTimer(self, singleShot=True, interval=SEEK_COMMIT_MS)
        self._seek_timer.timeout.connect(self._commit_seek)
        self._hide_timer = QTimer(self, singleShot=True, interval=CONTROLS_HIDE_MS)
        self._hide_timer.timeout.connect(self._hide_controls)
        controller.stats.connect(self._on_stats)
        controller.state.connect(self._on_state)
        controller.failed.connect(self._on_failed)
        controller.first_frame.connect(self._on_first_frame)
        controller.opened.connect(self._on_opened)
        # Direct: the video surface must exist before mpv opens its first stream.
        controller.sink_created.connect(lambda sink: self.video.attach(sink.player))

    # -- lifecycle -------------------------------------------------------------------

    def play(self, request: PlaybackRequest) -> None:
        self.failed_kind = None
        self.info = None
        self.thumbs = []
        self.subtitle_index = -1
        self.seek_bar.position_s = request.start_s
        self.seek_bar.target_s = None
        self.seek_bar.live = None
        self.live_badge.hide()
        self.message.show_text("")
        self._show_controls()
        self.controller.open(request)
        self.setFocus()

    def stop(self) -> None:
        self.controller.stop()
        self.video.detach()
        sink = self.controller.release_sink()
        if sink is not None:
            sink.close()
        self.stats.samples.clear()
        QTimer.singleShot(0, self.controller, self.controller.prepare_sink)

    # -- controller signals ------------------------------------------------------------

    def _on_opened(self, info: PlaybackInfo | None) -> None:
        self.info = info
        if info is None:
            return
        self.seek_bar.duration_s = info.duration_s
        if info.thumbnails_url:
            url = info.thumbnails_url
            runner = self.controller.runner
            api = self.controller.api
            assert api is not None
            runner.then(
                runner.submit(api.fetch(url)),
                lambda data: self._on_thumbs(data, url),
                lambda e: None,
            )

    def _on_thumbs(self, data: bytes, url: str) -> None:
        try:
            self.thumbs = parse_thumbnail_vtt(data.decode(), url)
        except (ValueError, UnicodeDecodeError):
            self.thumbs = []  # no trick-play is better than no playback
            return
        runner = self.controller.runner
        api = self.controller.api
        assert api is not None
        for sprite in {t.url for t in self.thumbs}:
            runner.then(
                runner.submit(api.fetch(sprite)),
                functools.partial(self._on_sprite, sprite),
                lambda e: None,
            )

    def _on_sprite(self, url: str, data: bytes) -> None:
        pixmap = QPixmap()
        if pixmap.loadFromData(data):
            self.sprites[url] = pixmap

    def _on_first_frame(self, ttff: Ttff) -> None:
        self.stats.ttff_line = ttff.line()
        self.message.show_text("")

    def _on_stats(self, sample: StatsSample) -> None:
        self.stats.add(sample)
        if self.seek_bar.duration_s <= 0 and self.controller.engine is not None:
            self.seek_bar.duration_s = (
                self.controller.engine.session.context.presentation.duration_s
            )
        self.seek_bar.position_s = sample.position_s
        self.seek_bar.buffered_s = sample.position_s + sample.buffer_s
        self.seek_bar.live = sample.live
        self.seek_bar.update()
        if sample.live is not None:
            self.live_badge.set_at_edge(sample.live.at_edge)
            if not self.live_badge.isVisible():
                self.live_badge.show()
                self._place_badge()
        intro = self.info.intro if self.info is not None else None
        in_intro = intro is not None and intro[0] <= sample.position_s < intro[1] - 1.0
        if in_intro != self.skip_intro.isVisible():
            self.skip_intro.setVisible(in_intro)
            if in_intro:
                self.skip_intro.setFocus()
            else:
                self.setFocus()

    def _on_state(self, state: str) -> None:
        if state == "stalled":
            self.message.show_text(STALL_MESSAGE)
        elif state.startswith("stalled: "):  # live: why nothing new is coming
            self.message.show_text(f"{STALL_MESSAGE}\n{state.partition(': ')[2]}")
        elif state.startswith("retrying"):
            reason = state.partition(": ")[2]
            self.message.show_text(f"{RETRY_MESSAGE}\n{reason}")
        elif state == "ended":
            self.message.show_text("The end")
        elif self.message.text.startswith((STALL_MESSAGE, RETRY_MESSAGE)):
            self.message.show_text("")

    def _on_failed(self, kind: str, reason: str) -> None:
        headline = {
            "auth": "Your session has expired or is not allowed to play this. Log in again.",
            "network": "The network is not answering. Retries have run out.",
            "live": "The live channel stopped.",
            "media": "This title cannot be played.",
        }[kind]
        self.message.show_text(f"{headline}\n\n{reason}\n\nBack to return")
        self.failed_kind = kind

    # -- keys ----------------------------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The skip-intro button and the LIVE badge take Enter; every other key is the screen's.
        if (
            watched in (self.skip_intro, self.live_badge)
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
        ):
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select):
                return False
            self.keyPressEvent(event)
            return True
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        self._show_controls()
        if key in (
            Qt.Key.Key_Space,
            Qt.Key.Key_MediaPlay,
            Qt.Key.Key_MediaTogglePlayPause,
            Qt.Key.Key_MediaPause,
        ):
            self.controller.toggle_pause()
        elif key in (Qt.Key.Key_L, Qt.Key.Key_Red):
            self._go_live()
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_Right):
            step = SEEK_STEP_S if key == Qt.Key.Key_Right else -SEEK_STEP_S
            start = (
                self.seek_bar.target_s
                if self.seek_bar.target_s is not None
                else self.controller.position_s()
            )
            live = self.seek_bar.live
            if live is not None:  # within the DVR window
                target = min(max(start + step, live.window_start_s), live.edge_s)
            else:
                target = min(max(start + step, 0.0), max(self.seek_bar.duration_s - 1.0, 0.0))
            self.seek_bar.target_s = target
            thumb = thumbnail_at(self.thumbs, target)
            self.seek_bar.show_thumbnail(self.sprites.get(thumb.url) if thumb else None, thumb)
            self._seek_timer.start()
        elif key == Qt.Key.Key_I:
            self.stats.setVisible(not self.stats.isVisible())
            self.stats.raise_()
        elif key == Qt.Key.Key_S:
            self._subtitle_menu()
        elif key == Qt.Key.Key_A:
            self._audio_menu()
        elif key in (Qt.Key.Key_Escape, Qt.Key.Key_Back, Qt.Key.Key_Backspace):
            self.stop()
            self.back.emit()
        else:
            super().keyPressEvent(event)

    def _commit_seek(self) -> None:
        if self.seek_bar.target_s is not None:
            self.controller.seek(self.seek_bar.target_s)
            self.seek_bar.position_s = self.seek_bar.target_s
        self.seek_bar.target_s = None
        self.seek_bar.show_thumbnail(None, None)

    def _go_live(self) -> None:
        self.controller.go_live()
        self.seek_bar.target_s = None
        self._seek_timer.stop()
        self._flash("Back to live")
        self.setFocus()

    def _skip_intro(self) -> None:
        if self.info is not None and self.info.intro is not None:
            self.controller.seek(self.info.intro[1])
        self.skip_intro.hide()
        self.setFocus()

    def _subtitle_menu(self) -> None:
        sink = self.controller.sink
        if sink is None or self.info is None or not self.info.subtitles:
            self._flash("No subtitles for this title")
            return
        labels = ["Off", *(language_name(s.language) for s in self.info.subtitles)]

        def pick(row: int) -> None:
            self.subtitle_index = row - 1
            # The WebVTT files were given to mpv in this order: track ids 1, 2, ...
            sink.player["sid"] = "no" if row == 0 else row
            self._flash(f"Subtitles: {labels[row]}")

        self.menu.open("Subtitles", labels, self.subtitle_index + 1, pick)

    def _audio_menu(self) -> None:
        engine = self.controller.engine
        tracks = engine.audio_tracks if engine is not None else ()
        if engine is None or len(tracks) < 2:
            self._flash("This title has one audio track")
            return
        labels = [t.name or (language_name(t.language) if t.language else t.id) for t in tracks]
        current = next((i for i, t in enumerate(tracks) if t.id == engine.audio_track_id), 0)

        def pick(row: int) -> None:
            self.controller.select_audio(tracks[row].id)
            self._flash(f"Audio: {labels[row]}")

        self.menu.open("Audio", labels, current, pick)

    def _flash(self, text: str) -> None:
        self.message.show_text(text)

        def clear() -> None:
            if self.message.text == text:  # unless something newer is showing
                self.message.show_text("")

        QTimer.singleShot(1500, self.message, clear)  # dropped if the screen is gone

    # -- layout ------------------------------------------------------------------------

    def _show_controls(self) -> None:
        self.seek_bar.show()
        self.seek_bar.raise_()
        self._hide_timer.start()

    def _hide_controls(self) -> None:
        if self.seek_bar.target_s is None and not self.controller.paused:
            self.seek_bar.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        """A click on the seek bar seeks there; anywhere else on the picture pauses or plays."""
        self._show_controls()
        bar_top = self.seek_bar.geometry().top() + self.seek_bar.height() - 110
        span = self.seek_bar.span()
        if event.position().y() >= bar_top and span is not None:
            left, width = 40, self.width() - 80
            fraction = min(max((event.position().x() - left) / width, 0.0), 1.0)
            target = span[0] + fraction * (span[1] - span[0])
            self.controller.seek(target)
            self.seek_bar.position_s = target
        else:
            self.controller.toggle_pause()

    def resizeEvent(self, event: QResizeEvent) -> None:
        rect = self.rect()
        self.video.setGeometry(rect)
        self.seek_bar.setGeometry(0, rect.height() - 330, rect.width(), 330)
        self.stats.move(30, 30)
        self.message.setGeometry(rect)
        self.skip_intro.adjustSize()
        self.skip_intro.move(rect.width() - self.skip_intro.width() - 60, rect.height() - 420)
        self.menu.move(rect.width() - self.menu.width() - 60, 60)
        self._place_badge()
        for overlay in (
            self.seek_bar,
            self.stats,
            self.skip_intro,
            self.live_badge,
            self.message,
            self.menu,
        ):
            overlay.raise_()

    def _place_badge(self) -> None:
        # Top right, clear of the stats overlay (top left) and the track menu (opened on demand).
        self.live_badge.adjustSize()
        self.live_badge.move(self.width() - self.live_badge.width() - 40, 40)
        self.live_badge.raise_()
