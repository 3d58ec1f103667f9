"""Home: Live now (channels), Continue watching (with progress), Recommended, All titles.
Up/Down change rows."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from player.api import ContinueItem, Title
from player.ui.cards import CardRow, TitleCard


class HomeScreen(QWidget):
    activated = Signal(str)  # video id
    focused = Signal(str)  # video id: the prefetcher starts on focus

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[CardRow] = []
        self.cards: dict[str, list[TitleCard]] = {}
        outer = QVBoxLayout(self)
        heading = QLabel("streamlab")
        heading.setObjectName("screenTitle")
        outer.addWidget(heading)
        self.status = QLabel("")
        outer.addWidget(self.status)
        self._scroll = QScrollArea()
        self._scroll.setWidgetResizable(True)
        self._scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        # A TV has no scroll bars: the focused poster is scrolled into view instead.
        self._scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(self._scroll)

    def populate(
        self, titles: list[Title], continuing: list[ContinueItem], recommended: list[str]
    ) -> None:
        by_id = {t.video_id: t for t in titles if t.ready and not t.live}
        channels = [t for t in titles if t.ready and t.live]
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.rows, self.cards = [], {}
        rows: list[tuple[str, list[tuple[Title, float | None]]]] = [
            ("Live now", [(t, None) for t in channels]),
            (
                "Continue watching",
                [
                    (by_id[c.video_id], c.offset_s / c.duration_s if c.duration_s else None)
                    for c in continuing
                    if c.video_id in by_id
                ],
            ),
            ("Recommended", [(by_id[v], None) for v in recommended if v in by_id]),
            ("All titles", [(t, None) for t in by_id.values()]),
        ]
        for name, items in rows:
            if not items:
                continue
            row = CardRow(name)
            for title, progress in items:
                card = TitleCard(title.video_id, title.title, progress, live=title.live)
                card.activated.connect(self.activated)
                card.focused.connect(self.focused)
                card.focused.connect(lambda _id, c=card: self._scroll.ensureWidgetVisible(c))
                row.add(card)
                self.cards.setdefault(title.video_id, []).append(card)
            layout.addWidget(row)
            self.rows.append(row)
        self._scroll.setWidget(body)
        self.status.setText("" if by_id or channels else "No titles are ready yet.")
        if self.rows:
            self.rows[0].focus(0)

    def set_poster(self, video_id: str, data: bytes) -> None:
        for card in self.cards.get(video_id, []):
            card.set_poster(data)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = next((i for i, r in enumerate(self.rows) if r.focused_index() is not None), None)
        if current is None or event.key() not in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            super().keyPressEvent(event)
            return
        column = self.rows[current].focused_index() or 0
        target = current + (1 if event.key() == Qt.Key.Key_Down else -1)
        if 0 <= target < len(self.rows):
            self.rows[target].focus(column)
            self._scroll.ensureWidgetVisible(self.rows[target])
