"""The player's window: home → title page → playback, with log-in when the session expires."""

from __future__ import annotations

import functools
import logging
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from player.api import ApiError, AuthError, BackendApi, ContinueItem, Title
from player.mpv_sink import MpvSink
from player.prefetch import PrefetchCache, Prefetcher, PrefetchingTransport
from player.progress import ProgressJournal, ProgressSync
from player.routing import Address, ReroutingTransport
from player.ui.async_runner import AsyncRunner
from player.ui.controller import PlaybackController, PlaybackRequest
from player.ui.home_screen import HomeScreen
from player.ui.playback_screen import PlaybackScreen
from player.ui.theme import STYLE
from player.ui.title_screen import TitleScreen

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlayerOptions:
    api_url: str | None  # None: play `url` with no backend
    url: str | None = None
    username: str = "demo"
    password: str = "demo"
    device_type: str = "desktop"
    abr: str = "streamlab"
    fullscreen: bool = False
    state_dir: Path = Path.home() / ".local" / "share" / "streamlab"
    audio: bool = True
    prefetch: bool = True  # fetch a focused title's start in the background
    packaging: str = "dash"  # dash, hls (both CMAF) or hls-ts
    http_proxy: str | None = None  # every request through this HTTP proxy
    # Requests for these hosts connect to other addresses (a shaped link: `play --trace`).
    routes: Mapping[Address, Address] = field(default_factory=dict)


def network_transport(options: PlayerOptions) -> httpx.AsyncBaseTransport:
    # HTTP/2 where the edge offers it (ALPN over TLS); keep-alive HTTP/1.1 otherwise.
    network = httpx.AsyncHTTPTransport(http2=True, proxy=options.http_proxy)
    return ReroutingTransport(options.routes, network) if options.routes else network


class LoginScreen(QWidget):
    def __init__(self, on_submit: Callable[[], None]) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading = QLabel("Log in")
        heading.setObjectName("screenTitle")
        self.reason = QLabel("")
        self.reason.setWordWrap(True)
        self.username = QLineEdit()
        self.username.setPlaceholderText("user name")
        self.password = QLineEdit()
        self.password.setPlaceholderText("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.submit = QPushButton("Log in")
        self.submit.clicked.connect(on_submit)
        self.password.returnPressed.connect(self.submit.click)
        for w in (heading, self.reason, self.username, self.password, self.submit):
            layout.addWidget(w)


class PlayerWindow(QStackedWidget):
    def __init__(self, options: PlayerOptions) -> None:
        super().__init__()
        self.options = options
        self.setWindowTitle("streamlab")
        self.setStyleSheet(STYLE)
        self.runner = AsyncRunner()
        self.prefetch_cache = PrefetchCache()
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(10.0, connect=5.0),
            follow_redirects=True,
            transport=PrefetchingTransport(self.prefetch_cache, network_transport(options)),
        )
        self.api = (
            BackendApi(options.api_url, self.client, options.device_type)
            if options.api_url
            else None
        )
        self.prefetcher = (
            Prefetcher(self.api, self.client, self.prefetch_cache)
            if self.api is not None and options.prefetch and options.packaging == "dash"
            else None
        )
        self.titles: dict[str, Title] = {}
        self.continuing: dict[str, ContinueItem] = {}
        # By video id: the poster's path (signatures vary; a channel's still gets a new name
        # when it changes) and its bytes.
        self.posters: dict[str, tuple[str, bytes]] = {}
        device_id_file = options.state_dir / "device-id"
        progress = None
        if self.api is not None:
            journal = ProgressJournal(options.state_dir / "pending-progress.jsonl")
            progress = ProgressSync(journal, self.api.report_progress)
        self.controller = PlaybackController(
            self.runner,
            self.client,
            self.api,
            progress,
            _device_id(device_id_file),
            lambda: MpvSink(vo="libmpv", ao="pulse,alsa,null" if options.audio else "null"),
            abr=options.abr,
            prefetcher=self.prefetcher,
            packaging=options.packaging,
        )
        self.login = LoginScreen(self._submit_login)
        self.home = HomeScreen()
        self.title_page = TitleScreen()
        self.playback = PlaybackScreen(self.controller)
        for screen in (self.login, self.home, self.title_page, self.playback):
            self.addWidget(screen)
        self.home.activated.connect(self._open_title)
        self.home.focused.connect(self._prefetch)
        self.title_page.play.connect(
            lambda vid, start: self._play(PlaybackRequest(video_id=vid, start_s=start))
        )
        self.title_page.back.connect(self._go_home)
        self.playback.back.connect(self._after_playback)
        self.controller.failed.connect(self._on_failed)
        if self.api is None:
            assert options.url is not None
            self._play(PlaybackRequest(url=options.url))
        else:
            self._log_in(options.username, options.password)

    # -- backend -------------------------------------------------------------------------

    def _log_in(self, username: str, password: str) -> None:
        assert self.api is not None
        api = self.api

        async def start() -> tuple[list[Title], list[ContinueItem], list[str]]:
            await api.login(username, password)
            if self.controller.progress is not None:
                await self.controller.progress.flush()  # what an earlier run could not send
            return await self._catalog()

        self.runner.then(self.runner.submit(start()), self._show_home, self._on_api_error)

    async def _catalog(self) -> tuple[list[Title], list[ContinueItem], list[str]]:
        assert self.api is not None
        titles = await self.api.titles()
        continuing = await self.api.continue_watching()
        recommended = await self.api.recommendations()
        return titles, continuing, recommended

    def _show_home(self, catalog: tuple[list[Title], list[ContinueItem], list[str]]) -> None:
        titles, continuing, recommended = catalog
        self.titles = {t.video_id: t for t in titles}
        self.continuing = {c.video_id: c for c in continuing}
        self.home.populate(titles, continuing, recommended)
        self.setCurrentWidget(self.home)
        assert self.api is not None
        for title in titles:
            if not title.poster_url:
                continue
            path = urlsplit(title.poster_url).path
            cached = self.posters.get(title.video_id)
            if cached is not None and cached[0] == path:
                self.home.set_poster(title.video_id, cached[1])  # the rows were rebuilt
                continue
            self.runner.then(
                self.runner.submit(self.api.fetch(title.poster_url)),
                functools.partial(self._on_poster, title.video_id, path),
                lambda e: None,  # a missing poster leaves the grey card
            )
        self.controller.prepare_sink()
        self.home.setFocus()
        if self.home.rows:
            self.home.rows[0].focus(0)

    def _on_poster(self, video_id: str, path: str, data: bytes) -> None:
        self.posters[video_id] = (path, data)
        self.home.set_poster(video_id, data)

    def _prefetch(self, video_id: str) -> None:
        prefetcher = self.prefetcher
        title = self.titles.get(video_id)
        if prefetcher is None or title is None or title.live:
            return  # a live window moves on: what is fetched on focus is stale by Play
        item = self.continuing.get(video_id)
        start = item.offset_s if item else 0.0
        self.runner.call_soon(lambda: prefetcher.focus(video_id, start))

    def _open_title(self, video_id: str) -> None:
        title = self.titles.get(video_id)
        if title is None:
            return
        if title.live:  # nothing to choose: a channel plays from its live edge
            self._play(PlaybackRequest(video_id=video_id))
            return
        item = self.continuing.get(video_id)
        poster = self.posters.get(video_id)
        self.title_page.show_title(
            title, item.offset_s if item else 0.0, poster[1] if poster else None
        )
        self.setCurrentWidget(self.title_page)

    def _go_home(self) -> None:
        self.runner.then(self.runner.submit(self._catalog()), self._show_home, self._on_api_error)

    def _play(self, request: PlaybackRequest) -> None:
        self.setCurrentWidget(self.playback)
        self.playback.play(request)

    def _after_playback(self) -> None:
        if self.api is None:
            self.close()
        elif self.playback.failed_kind == "auth":
            self.login.reason.setText("Your session has expired. Please log in again.")
            self.setCurrentWidget(self.login)
            self.login.username.setFocus()
        else:
            self._go_home()

    def _submit_login(self) -> None:
        self._log_in(self.login.username.text(), self.login.password.text())

    def _on_api_error(self, error: BaseException) -> None:
        if isinstance(error, AuthError):
            self.login.reason.setText(f"Please log in again.\n{error}")
            self.setCurrentWidget(self.login)
            self.login.username.setFocus()
        elif isinstance(error, ApiError):
            self.home.status.setText(f"Cannot reach the service: {error}")
            self.setCurrentWidget(self.home)
        else:
            raise error

    def _on_failed(self, kind: str, reason: str) -> None:
        log.warning("playback failed (%s): %s", kind, reason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_F and self.isFullScreen():
            self.showNormal()
        elif event.key() == Qt.Key.Key_F:
            self.showFullScreen()
        else:
            super().keyPressEvent(event)

    def shutdown(self) -> None:
        self.playback.stop()
        self.controller.close()
        if self.controller.progress is not None:
            # The last report ("close") is journaled; give it a moment to reach the server.
            self.runner.submit(self.controller.progress.flush())
        self.runner.submit(self.client.aclose())
        self.runner.close()


def _device_id(path: Path) -> str:
    """One id per installation, so the server can tell this device's progress from others'."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    device = f"streamlab-{uuid.uuid4().hex[:12]}"
    path.write_text(device)
    return device


def run(options: PlayerOptions) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = PlayerWindow(options)
    window.resize(1600, 900)
    if options.fullscreen:
        window.showFullScreen()
    else:
        window.show()
    app.aboutToQuit.connect(window.shutdown)
    return app.exec()
