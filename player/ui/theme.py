"""The 10-foot look: large type, high contrast, a focus ring you can see from the sofa."""

from __future__ import annotations

ACCENT = "#ffb000"
LIVE_RED = "#e50914"  # a live channel at its live edge
BEHIND_GREY = "#6b6b75"  # a live channel played behind its edge

STYLE = f"""
QWidget {{ background: #101014; color: #f0f0f0; font-size: 22px; }}
QLabel#screenTitle {{ font-size: 40px; font-weight: bold; }}
QLabel#rowTitle {{ font-size: 28px; font-weight: bold; color: #d0d0d0; }}
QLabel#message {{ font-size: 26px; background: rgba(0,0,0,200); padding: 18px; border-radius: 8px; }}
QPushButton {{ background: #2a2a33; border: 4px solid transparent; border-radius: 10px;
              padding: 14px 28px; font-size: 26px; }}
QPushButton:focus {{ border: 4px solid {ACCENT}; background: #3a3a46; }}
QPushButton:hover {{ background: #3a3a46; }}
QLineEdit {{ font-size: 26px; padding: 10px; border: 3px solid #444; border-radius: 8px; }}
QLineEdit:focus {{ border: 3px solid {ACCENT}; }}
QListWidget {{ font-size: 26px; border: 3px solid #444; }}
QListWidget::item:selected {{ background: #3a3a46; border: 3px solid {ACCENT}; }}
"""
