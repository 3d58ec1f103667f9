"""A poster card and a row of them, navigable with the arrow keys (a TV remote's d-pad)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from player.ui.theme import ACCENT, LIVE_RED

CARD = QSize(320, 180)


class TitleCard(QWidget):
    """Poster, title and (for Continue watching) a progress bar. Enter or a click opens it."""

    activated = Signal(str)
    focused = Signal(str)

    def __init__(
        self, video_id: str, title: str, progress: float | None = None, live: bool = False
    ) -> None:
        super().__init__()
        self.live = live  # a channel: a LIVE tag on its poster
        self.video_id = video_id
        self.title = title
        self.progress = progress
        self.poster: QPixmap | None = None
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFixedSize(CARD.width() + 16, CARD.height() + 64)
        self.setMouseTracking(True)

    def set_poster(self, data: bytes) -> None:
        pixmap = QPixmap()
        if pixmap.loadFromData(data):
            self.poster = pixmap
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        box = self.rect().adjusted(8, 8, -8, -56)
        if self.poster is not None:
            p.drawPixmap(box, self.poster)
        else:
            p.fillRect(box, QColor("#2a2a33"))
        if self.live:
            tag = box.adjusted(12, 12, 0, 0)
            tag.setSize(QSize(72, 32))
            p.fillRect(tag, QColor(LIVE_RED))
            p.setPen(QColor("#ffffff"))
            font = p.font()
            font.setPixelSize(20)
            font.setBold(True)
            p.setFont(font)
            p.drawText(tag, Qt.AlignmentFlag.AlignCenter, "LIVE")
        if self.progress is not None:
            bar = box.adjusted(0, box.height() - 8, 0, 0)
            p.fillRect(bar, QColor("#555"))
            bar.setWidth(int(bar.width() * min(max(self.progress, 0.0), 1.0)))
            p.fillRect(bar, QColor("#e50914"))
        if self.hasFocus():
            pen = p.pen()
            pen.setColor(QColor(ACCENT))
            pen.setWidth(6)
            p.setPen(pen)
            p.drawRoundedRect(self.rect().adjusted(3, 3, -3, -51), 8, 8)
        p.setPen(QColor("#f0f0f0"))
        font = p.font()
        font.setPixelSize(22)
        font.setBold(self.hasFocus())
        p.setFont(font)
        p.drawText(
            self.rect().adjusted(8, self.height() - 50, -8, 0),
            Qt.AlignmentFlag.AlignLeft,
            self.title,
        )
        p.end()

    def focusInEvent(self, event: QFocusEvent) -> None:
        self.focused.emit(self.video_id)
        self.update()

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self.update()

    def enterEvent(self, event: object) -> None:
        self.setFocus(
            Qt.FocusReason.MouseFocusReason
        )  # hover is focus: prefetch starts the same way

    def mousePressEvent(self, event: object) -> None:
        self.activated.emit(self.video_id)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select):
            self.activated.emit(self.video_id)
        else:
            event.ignore()  # arrows go to the row and the screen


class CardRow(QWidget):
    """A titled row of cards; Left/Right move within it."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.cards: list[TitleCard] = []
        layout = QVBoxLayout(self)
        label = QLabel(title)
        label.setObjectName("rowTitle")
        layout.addWidget(label)
        self._strip = QHBoxLayout()
        self._strip.setAlignment(Qt.AlignmentFlag.AlignLeft)
        layout.addLayout(self._strip)

    def add(self, card: TitleCard) -> None:
        self.cards.append(card)
        self._strip.addWidget(card)

    def focused_index(self) -> int | None:
        return next((i for i, c in enumerate(self.cards) if c.hasFocus()), None)

    def focus(self, index: int) -> None:
        if self.cards:
            self.cards[min(max(index, 0), len(self.cards) - 1)].setFocus(
                Qt.FocusReason.OtherFocusReason
            )

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.focused_index()
        if index is not None and event.key() == Qt.Key.Key_Right:
            self.focus(index + 1)
        elif index is not None and event.key() == Qt.Key.Key_Left:
            self.focus(index - 1)
        else:
            event.ignore()
