"""The labor-cost summary in its own window, opened from the main window's Reports menu."""

from __future__ import annotations

from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QVBoxLayout, QWidget

from desktop.labor.cost import stored_clinic_name
from desktop.ui.context import DeskContext
from desktop.ui.report_screen import ReportScreen
from desktop.ui.screen_room import resize_within_screen


class ReportDialog(QDialog):
    """Holds a :class:`ReportScreen` for the window's cache and settings."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Labor-cost summary")
        self.setAccessibleName("Labor-cost summary")
        clinic = stored_clinic_name(ctx.open_reader())
        self.screen_widget = ReportScreen(
            ctx.cache.path, ctx.cache_key, ctx.settings, self, clinic=clinic
        )
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        self.close_button = close.button(QDialogButtonBox.StandardButton.Close)
        self.close_button.setText("&Close")
        layout = QVBoxLayout(self)
        layout.addWidget(self.screen_widget)
        layout.addWidget(close)
        resize_within_screen(self, 900, 700)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Close the report's read-only connection with the window."""
        self.screen_widget.close_cache()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        """Also close the connection when the dialog is dismissed with Escape."""
        self.screen_widget.close_cache()
        super().done(result)
