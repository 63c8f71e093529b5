"""Draw the MergeDesk icon and write it as PNG (Linux), ICO (Windows) and, where Qt can, ICNS.

Run from the repository root: ``uv run python build/make_icons.py``. The results are committed
under resources/icons/, so building the app does not need this script.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPen

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"


def draw(size: int) -> QImage:
    """Two overlapping record cards merging into one, on a rounded teal square."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    p = QPainter(image)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor("#0f766e"))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 48 * s, 48 * s)
    for x, colour in ((56, "#99f6e4"), (100, "#ffffff")):
        p.setBrush(QColor(colour))
        p.drawRoundedRect(QRectF(x * s, 64 * s, 100 * s, 128 * s), 14 * s, 14 * s)
    p.setPen(QPen(QColor("#0f766e"), 10 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
    for y in (100, 128, 156):
        p.drawLine(int(120 * s), int(y * s), int(178 * s), int(y * s))
    p.end()
    return image


def main() -> int:
    """Write the icon files."""
    _app = QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    draw(512).save(str(OUT / "mergedesk.png"))
    draw(256).save(str(OUT / "mergedesk.ico"))
    if not draw(512).save(str(OUT / "mergedesk.icns")):
        print("Qt has no ICNS writer here; build/macos/build.sh makes it with iconutil.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
