"""Window sizes that fit the screen a window opens on (a 1366×768 laptop with a task bar)."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

# Room for what a window's own size leaves out: the title bar and borders the system draws.
FRAME_WIDTH = 20
FRAME_HEIGHT = 40


def screen_area(widget: QWidget) -> QRect | None:
    """The part of the widget's screen (else the main screen) that windows may use, task bars
    left out; None when there is no screen at all."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def resize_within_screen(widget: QWidget, width: int, height: int) -> None:
    """Give a window ``width`` × ``height``, or as much of it as its screen has room for, title
    bar included (never below the window's minimum size)."""
    area = screen_area(widget)
    if area is not None:
        width = min(width, area.width() - FRAME_WIDTH)
        height = min(height, area.height() - FRAME_HEIGHT)
    widget.resize(width, height)
