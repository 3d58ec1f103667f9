"""The video surface: libmpv's render API drawing into a Qt widget.

On a real display (or Xvfb) an OpenGL widget, so Qt overlays (controls, stats) draw over
the picture. Under `QT_QPA_PLATFORM=offscreen` there is no GL: libmpv's software renderer
draws into a QImage that a plain widget paints. Both repaint when libmpv says a new frame is
ready; that callback comes on a libmpv thread and only emits a queued signal.
"""

from __future__ import annotations

import ctypes

import mpv
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QImage, QOpenGLContext, QPainter, QPaintEvent
from PySide6.QtOpenGLWidgets import QOpenGLWidget
from PySide6.QtWidgets import QWidget

from player.mpv_render import RenderContext


def _gl_proc_address(name: bytes) -> int:
    context: QOpenGLContext | None = QOpenGLContext.currentContext()
    if context is None:
        return 0
    address = context.getProcAddress(name)
    return int(address) if address else 0


class GlVideoWidget(QOpenGLWidget):
    frame_ready = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._player: mpv.MPV | None = None
        self._render: RenderContext | None = None
        self.frame_ready.connect(self.update, Qt.ConnectionType.QueuedConnection)

    def attach(self, player: mpv.MPV) -> None:
        self._player = player
        if self.context() is not None and self.isValid():
            self.makeCurrent()
            self._create()
            self.doneCurrent()

    def _create(self) -> None:
        if self._player is None or self._render is not None:
            return
        self._render = RenderContext(self._player, "opengl", _gl_proc_address)
        self._render.set_update_callback(self.frame_ready.emit)

    def initializeGL(self) -> None:
        self._create()

    def paintGL(self) -> None:
        if self._render is None:
            return
        ratio = self.devicePixelRatio()
        self._render.render_opengl(
            self.defaultFramebufferObject(), int(self.width() * ratio), int(self.height() * ratio)
        )

    def detach(self) -> None:
        """Free the render context; call before the player is terminated."""
        if self._render is not None:
            self.makeCurrent()
            self._render.free()
            self.doneCurrent()
            self._render = None
        self._player = None


class SoftwareVideoWidget(QWidget):
    frame_ready = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._render: RenderContext | None = None
        self._image: QImage | None = None
        self._buffer: ctypes.Array[ctypes.c_char] | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.frame_ready.connect(self._draw, Qt.ConnectionType.QueuedConnection)

    def attach(self, player: mpv.MPV) -> None:
        self._render = RenderContext(player, "sw")
        self._render.set_update_callback(self.frame_ready.emit)

    def _draw(self) -> None:
        if self._render is None or not self._render.frame_ready():
            return
        width, height = max(self.width(), 2), max(self.height(), 2)
        if self._buffer is None or self._image is None or self._image.size() != self.size():
            self._buffer = ctypes.create_string_buffer(width * height * 4)
        self._render.render_software(width, height, self._buffer)
        # QImage does not own the bytes: copy, so the buffer can be reused for the next frame.
        self._image = QImage(
            self._buffer.raw, width, height, width * 4, QImage.Format.Format_RGBX8888
        ).copy()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._image is not None:
            painter.drawImage(self.rect(), self._image)
        painter.end()

    def detach(self) -> None:
        if self._render is not None:
            self._render.free()
            self._render = None


VideoWidget = GlVideoWidget | SoftwareVideoWidget


def make_video_widget(parent: QWidget | None = None) -> VideoWidget:
    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return SoftwareVideoWidget(parent)
    return GlVideoWidget(parent)
