"""What draws over the picture: seek bar with trick-play thumbnail, stats, messages, and for
a live channel the LIVE badge."""

from __future__ import annotations

import itertools
from collections import deque

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QPushButton, QWidget

from player.thumbnails import Thumbnail
from player.ui.controller import LiveSample, StatsSample
from player.ui.theme import ACCENT, BEHIND_GREY, LIVE_RED


def clock(seconds: float) -> str:
    seconds = max(int(seconds), 0)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class SeekBar(QWidget):
    """Position, buffered range and, while seeking, the target's thumbnail above it. Live
    (`live` set): the bar spans the DVR window, its right end the live edge, and the times
    shown are how far behind live."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.live: LiveSample | None = None
        self.duration_s = 0.0
        self.position_s = 0.0
        self.buffered_s = 0.0
        self.target_s: float | None = None  # set while the viewer is seeking
        self.thumbnail: QPixmap | None = None
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def show_thumbnail(self, sprite: QPixmap | None, thumb: Thumbnail | None) -> None:
        self.thumbnail = (
            sprite.copy(thumb.x, thumb.y, thumb.w, thumb.h) if sprite and thumb else None
        )
        self.update()

    def span(self) -> tuple[float, float] | None:
        """The positions at the bar's two ends; None while unknown."""
        if self.live is not None:
            start, edge = self.live.window_start_s, self.live.edge_s
            return (start, edge) if edge > start else None
        return (0.0, self.duration_s) if self.duration_s > 0 else None

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        bar = QRect(40, self.height() - 60, self.width() - 80, 10)
        p.fillRect(self.rect().adjusted(0, self.height() - 110, 0, 0), QColor(0, 0, 0, 160))
        p.fillRect(bar, QColor("#555"))
        span = self.span()
        if span is not None:
            first, length = span[0], span[1] - span[0]

            def x(t: float) -> int:
                fraction = min(max((t - first) / length, 0.0), 1.0)
                return bar.left() + int(bar.width() * fraction)

            p.fillRect(
                QRect(bar.left(), bar.top(), x(self.buffered_s) - bar.left(), bar.height()),
                QColor("#999"),
            )
            p.fillRect(
                QRect(bar.left(), bar.top(), x(self.position_s) - bar.left(), bar.height()),
                QColor("#e50914"),
            )
            shown = self.position_s if self.target_s is None else self.target_s
            p.setBrush(QColor(ACCENT if self.target_s is not None else "#f0f0f0"))
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(x(shown) - 12, bar.center().y() - 12, 24, 24)
            if self.target_s is not None and self.thumbnail is not None:
                w, h = 320, 180
                left = min(max(x(shown) - w // 2, 0), self.width() - w)
                frame = QRect(left, bar.top() - h - 30, w, h)
                p.drawPixmap(frame, self.thumbnail)
                p.setPen(QPen(QColor(ACCENT), 4))
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(frame)
        p.setPen(QColor("#f0f0f0"))
        font = p.font()
        font.setPixelSize(24)
        p.setFont(font)
        shown = self.position_s if self.target_s is None else self.target_s
        text_box = QRect(40, self.height() - 44, self.width() - 80, 36)
        if self.live is not None:
            behind = self.live.edge_s - shown
            behind_text = (
                "live" if self.live.at_edge and self.target_s is None else f"-{clock(behind)}"
            )
            p.drawText(text_box, Qt.AlignmentFlag.AlignLeft, behind_text)
            window = self.live.edge_s - self.live.window_start_s
            p.drawText(text_box, Qt.AlignmentFlag.AlignRight, f"window {clock(window)}")
        else:
            p.drawText(text_box, Qt.AlignmentFlag.AlignLeft, clock(shown))
            p.drawText(text_box, Qt.AlignmentFlag.AlignRight, clock(self.duration_s))
        p.end()


class LiveBadge(QPushButton):
    """LIVE: red at the live edge, grey behind it; pressing it goes back to the edge."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__("● LIVE", parent)
        self.at_edge: bool | None = None
        self.set_at_edge(True)

    def set_at_edge(self, at_edge: bool) -> None:
        if at_edge == self.at_edge:
            return
        self.at_edge = at_edge
        color = LIVE_RED if at_edge else BEHIND_GREY
        self.setToolTip("" if at_edge else "Behind live: press to go live (L)")
        self.setStyleSheet(
            f"QPushButton {{ background: {color}; color: white; font-weight: bold;"
            f" font-size: 26px; padding: 8px 20px; border-radius: 8px;"
            f" border: 4px solid transparent; }}"
            f" QPushButton:focus {{ border: 4px solid {ACCENT}; }}"
        )


class StatsOverlay(QWidget):
    """Toggled with `i`: rendition and bitrate, buffer, throughput, dropped frames, a live chart."""

    HISTORY = 120  # samples: a minute at two a second

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.samples: deque[StatsSample] = deque(maxlen=self.HISTORY)
        self.ttff_line = ""
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.resize(760, 420)

    def add(self, sample: StatsSample) -> None:
        self.samples.append(sample)
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(0, 0, 0, 190))
        font = p.font()
        font.setPixelSize(20)
        font.setFamily("monospace")
        p.setFont(font)
        p.setPen(QColor("#f0f0f0"))
        lines = ["stats (i to hide)"]
        if self.samples:
            s = self.samples[-1]
            tput = "-" if s.throughput_kbps is None else f"{s.throughput_kbps:,.0f} kbit/s"
            lines += [
                f"rendition  {s.rendition} ({s.height or '?'}p) {s.bitrate_kbps:,.0f} kbit/s",
                f"buffer     {s.buffer_s:5.1f} s   state {s.phase}",
                f"throughput {tput}",
                f"dropped    {s.dropped_frames} frames",
            ]
            if s.live is not None:
                latency = "-" if s.live.latency_s is None else f"{s.live.latency_s:4.1f} s"
                lines.append(
                    f"live       latency {latency} (target {s.live.target_latency_s:.1f} s)"
                    f"  rate {s.live.rate:.2f}x"
                )
        if self.ttff_line:
            head, _, rest = self.ttff_line.partition(", manifest")
            lines += [head, f"     manifest{rest}"] if rest else [head]
        for i, line in enumerate(lines):
            p.drawText(14, 28 + 26 * i, line)
        self._chart(
            p,
            QRect(
                14, 28 + 26 * len(lines), self.width() - 28, self.height() - 40 - 26 * len(lines)
            ),
        )
        p.end()

    def _chart(self, p: QPainter, box: QRect) -> None:
        """Bitrate and throughput (kbit/s, shared scale) and buffer (s, own scale), last minute."""
        p.setPen(QColor("#444"))
        p.drawRect(box)
        if len(self.samples) < 2:
            return
        # One kbit/s scale for bitrate and throughput, topped at twice the highest bitrate
        # played: on a fast link the throughput would otherwise flatten the bitrate line.
        top_kbps = 2.0 * max(max(s.bitrate_kbps for s in self.samples), 1.0)
        top_buffer = max(max(s.buffer_s for s in self.samples), 1.0)
        series = (
            ("#e50914", [s.bitrate_kbps / top_kbps for s in self.samples], "bitrate"),
            (
                "#3fa9f5",
                [min((s.throughput_kbps or 0.0) / top_kbps, 1.0) for s in self.samples],
                "throughput",
            ),
            ("#7ed957", [s.buffer_s / top_buffer for s in self.samples], "buffer"),
        )
        # The newest sample at the right edge; the chart fills up as samples come in.
        step = box.width() / (max(len(self.samples), 2) - 1)
        for n, (color, values, name) in enumerate(series):
            p.setPen(QPen(QColor(color), 2))
            points = [
                (box.left() + int(i * step), box.bottom() - int(v * (box.height() - 4)))
                for i, v in enumerate(values)
            ]
            for (x0, y0), (x1, y1) in itertools.pairwise(points):
                p.drawLine(x0, y0, x1, y1)
            p.drawText(box.left() + 150 * n, box.top() - 6, name)


class MessageBanner(QWidget):
    """A centred message: stalls, network trouble, an expired session, unplayable media."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.text = ""
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.hide()

    def show_text(self, text: str) -> None:
        self.text = text
        self.setVisible(bool(text))
        self.raise_()
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        font = p.font()
        font.setPixelSize(28)
        p.setFont(font)
        box = p.boundingRect(
            self.rect().adjusted(60, 0, -60, 0),
            Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
            self.text,
        )
        p.fillRect(box.adjusted(-24, -16, 24, 16), QColor(0, 0, 0, 210))
        p.setPen(QColor("#f0f0f0"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.text)
        p.end()
