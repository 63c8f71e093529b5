"""Look and feel: Fusion with a light or dark palette that follows the system, HiDPI on."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from desktop import paths

# Colours used for highlights that must read well on both palettes.
LIGHT = {
    "window": "#f5f6f8",
    "base": "#ffffff",
    "alt": "#eef1f5",
    "text": "#1d232b",
    "button": "#e9ecf1",
    "highlight": "#2f6fde",
    "link": "#1f5fc4",
    "mid": "#c5cbd4",
    "disabled": "#8a93a0",
    "diff": "#fff1c2",
    "warning_bg": "#fde2dd",
    "warning_fg": "#8a1c0a",
    "for": "#1e7b34",
    "against": "#b3261e",
    "hint_bg": "#e6ebf2",
}
DARK = {
    "window": "#1f2227",
    "base": "#16181c",
    "alt": "#23272e",
    "text": "#e6e8eb",
    "button": "#2c3139",
    "highlight": "#4f8cf0",
    "link": "#7fb0ff",
    "mid": "#3a404a",
    "disabled": "#7c8490",
    "diff": "#4a3f12",
    "warning_bg": "#5a1d16",
    "warning_fg": "#ffd6cf",
    "for": "#73d08a",
    "against": "#ff8a80",
    "hint_bg": "#2a2f37",
}


def is_dark() -> bool:
    """Return True when the system asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def colours() -> dict[str, str]:
    """The colour set matching the palette in use (dark when its window colour is dark)."""
    app = QGuiApplication.instance()
    if app is None:
        return DARK if is_dark() else LIGHT
    window = QGuiApplication.palette().color(QPalette.ColorRole.Window)
    return DARK if window.lightness() < 128 else LIGHT


def colour(name: str) -> QColor:
    """One named colour of the palette in use, as a QColor."""
    return QColor(colours()[name])


def error_style() -> str:
    """A style sheet for a label that reports a problem."""
    return f"color: {colours()['against']}; font-weight: bold"


def build_palette(dark: bool) -> QPalette:
    """Return the custom light or dark palette."""
    c = DARK if dark else LIGHT
    palette = QPalette()
    role = QPalette.ColorRole
    palette.setColor(role.Window, QColor(c["window"]))
    palette.setColor(role.WindowText, QColor(c["text"]))
    palette.setColor(role.Base, QColor(c["base"]))
    palette.setColor(role.AlternateBase, QColor(c["alt"]))
    palette.setColor(role.Text, QColor(c["text"]))
    palette.setColor(role.Button, QColor(c["button"]))
    palette.setColor(role.ButtonText, QColor(c["text"]))
    palette.setColor(role.Highlight, QColor(c["highlight"]))
    palette.setColor(role.HighlightedText, QColor("#ffffff"))
    palette.setColor(role.Link, QColor(c["link"]))
    palette.setColor(role.ToolTipBase, QColor(c["base"]))
    palette.setColor(role.ToolTipText, QColor(c["text"]))
    palette.setColor(role.PlaceholderText, QColor(c["disabled"]))
    palette.setColor(role.Mid, QColor(c["mid"]))
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor(c["disabled"]))
    return palette


def apply_theme(app: QApplication) -> None:
    """Use Fusion with our palette, and follow the system when it switches light/dark."""
    app.setStyle("Fusion")
    app.setPalette(build_palette(is_dark()))
    icon = paths.resource_path("icons", "mergedesk.png")
    if icon.exists():
        from PySide6.QtGui import QIcon

        app.setWindowIcon(QIcon(str(icon)))
    hints = QGuiApplication.styleHints()
    hints.colorSchemeChanged.connect(_SchemeFollower.instance(app).follow)


class _SchemeFollower:
    """Re-applies the palette when the system colour scheme changes."""

    _single: _SchemeFollower | None = None

    def __init__(self, app: QApplication) -> None:
        self._app = app

    @classmethod
    def instance(cls, app: QApplication) -> _SchemeFollower:
        if cls._single is None:
            cls._single = cls(app)
        return cls._single

    def follow(self, scheme: Qt.ColorScheme) -> None:
        self._app.setPalette(build_palette(scheme == Qt.ColorScheme.Dark))
