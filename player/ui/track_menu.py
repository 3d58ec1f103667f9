"""A menu over the picture for subtitles or audio: Up/Down to move, Enter to pick, Back to close."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QListWidget, QVBoxLayout, QWidget


class TrackMenu(QWidget):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAutoFillBackground(True)
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        self.heading.setObjectName("rowTitle")
        self.items = QListWidget()
        self.items.installEventFilter(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.items)
        self._on_pick: Callable[[int], None] | None = None
        self.resize(420, 360)
        self.hide()

    def open(
        self, heading: str, labels: list[str], current: int, on_pick: Callable[[int], None]
    ) -> None:
        self.heading.setText(heading)
        self.items.clear()
        self.items.addItems(labels)
        self.items.setCurrentRow(current)
        self._on_pick = on_pick
        self.show()
        self.raise_()
        self.items.setFocus()

    def eventFilter(self, watched: object, event: object) -> bool:
        if (
            watched is self.items
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
        ):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select):
                if self._on_pick is not None:
                    self._on_pick(self.items.currentRow())
                self.close_menu()
                return True
            if key in (
                Qt.Key.Key_Escape,
                Qt.Key.Key_Back,
                Qt.Key.Key_Backspace,
                Qt.Key.Key_S,
                Qt.Key.Key_A,
            ):
                self.close_menu()
                return True
        return False

    def close_menu(self) -> None:
        self.hide()
        parent = self.parentWidget()
        if parent is not None:
            parent.setFocus()
