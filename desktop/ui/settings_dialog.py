"""Settings: hourly labor rate, idle threshold of the time log, thresholds of the bands."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.config import Settings, load_settings, save_settings
from desktop.ui.theme import error_style


class SettingsDialog(QDialog):
    """Edits :class:`desktop.config.Settings` and saves them when accepted."""

    def __init__(self, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._data_dir = data_dir
        self.settings = load_settings(data_dir)

        self.rate = QDoubleSpinBox()
        self.rate.setRange(0.0, 10_000.0)
        self.rate.setDecimals(2)
        self.rate.setSingleStep(0.5)
        self.rate.setValue(self.settings.hourly_rate)
        self.rate.setAccessibleName("Hourly labor rate")
        self.rate.setToolTip("What an hour of administrator time costs, in the clinic's currency")

        self.idle = QSpinBox()
        self.idle.setRange(10, 3600)
        self.idle.setSuffix(" s")
        self.idle.setValue(int(self.settings.idle_threshold_seconds))
        self.idle.setAccessibleName("Idle threshold in seconds")
        self.idle.setToolTip(
            "Gaps without keyboard or mouse input longer than this are not counted"
        )

        self.likely = QDoubleSpinBox()
        self.likely.setRange(0.01, 1.0)
        self.likely.setDecimals(2)
        self.likely.setSingleStep(0.01)
        self.likely.setValue(self.settings.likely_threshold)
        self.likely.setAccessibleName("Likely band threshold")
        self.possible = QDoubleSpinBox()
        self.possible.setRange(0.01, 1.0)
        self.possible.setDecimals(2)
        self.possible.setSingleStep(0.01)
        self.possible.setValue(self.settings.possible_threshold)
        self.possible.setAccessibleName("Possible band threshold")

        self.problem = QLabel()
        self.problem.setStyleSheet(error_style())
        self.problem.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Hourly labor &rate:", self.rate)
        form.addRow("&Idle after:", self.idle)
        form.addRow('"&Likely" from probability:', self.likely)
        form.addRow('"&Possible" from probability:', self.possible)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def chosen(self) -> Settings:
        """The settings as edited (not yet saved)."""
        s = self.settings
        s.hourly_rate = round(self.rate.value(), 2)
        s.idle_threshold_seconds = int(self.idle.value())
        s.likely_threshold = round(self.likely.value(), 2)
        s.possible_threshold = round(self.possible.value(), 2)
        return s

    @Slot()
    def accept(self) -> None:
        """Check and save the settings, then close."""
        if self.possible.value() >= self.likely.value():
            self.problem.setText('"Possible" must start below "likely".')
            return
        save_settings(self._data_dir, self.chosen())
        super().accept()
