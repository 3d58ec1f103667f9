"""A title's page: resume where the viewer left off (on any device), or start over."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from player.api import Title
from player.ui.overlays import clock


class TitleScreen(QWidget):
    play = Signal(str, float)  # video id, start offset
    back = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.title: Title | None = None
        self.resume_s = 0.0
        layout = QHBoxLayout(self)
        self.poster = QLabel()
        self.poster.setFixedSize(640, 360)
        self.poster.setScaledContents(True)
        layout.addWidget(self.poster, alignment=Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout()
        self.heading = QLabel()
        self.heading.setObjectName("screenTitle")
        self.heading.setWordWrap(True)
        self.details = QLabel()
        self.resume_button = QPushButton()
        self.start_button = QPushButton("Start over")
        self.resume_button.clicked.connect(lambda: self._play(self.resume_s))
        self.start_button.clicked.connect(lambda: self._play(0.0))
        for w in (self.heading, self.details, self.resume_button, self.start_button):
            column.addWidget(w)
        column.addStretch()
        layout.addLayout(column)

    def show_title(self, title: Title, resume_s: float, poster: bytes | None) -> None:
        self.title = title
        self.resume_s = resume_s
        self.heading.setText(title.title)
        self.details.setText(f"{clock(title.duration_s)}   {title.genre}")
        pixmap = QPixmap()
        if poster and pixmap.loadFromData(poster):
            self.poster.setPixmap(pixmap)
        resumable = resume_s > 1.0
        self.resume_button.setText(f"Resume from {clock(resume_s)}" if resumable else "Play")
        self.start_button.setVisible(resumable)
        self.resume_button.setFocus()

    def _play(self, start_s: float) -> None:
        if self.title is not None:
            self.play.emit(self.title.video_id, start_s)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Escape, Qt.Key.Key_Back, Qt.Key.Key_Backspace):
            self.back.emit()
        elif key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            buttons = [b for b in (self.resume_button, self.start_button) if b.isVisible()]
            focused = next((i for i, b in enumerate(buttons) if b.hasFocus()), 0)
            step = 1 if key == Qt.Key.Key_Down else -1
            buttons[(focused + step) % len(buttons)].setFocus()
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select):
            focused_button = next(
                (b for b in (self.resume_button, self.start_button) if b.hasFocus()), None
            )
            if focused_button is not None:
                focused_button.click()
        else:
            super().keyPressEvent(event)
