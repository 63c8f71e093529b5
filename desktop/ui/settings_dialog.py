"""Settings: labor rate and on-costs, time-log idle threshold, report baseline, the watch and
its intake alarm, band thresholds."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from desktop.account import DEFAULT_CURRENCY
from desktop.config import Settings, load_settings, save_settings
from desktop.ui import tray
from desktop.ui.theme import error_style


class SettingsDialog(QDialog):
    """Edits :class:`desktop.config.Settings` and saves them when accepted."""

    def __init__(
        self, data_dir: Path, parent: QWidget | None = None, *, currency: str = DEFAULT_CURRENCY
    ) -> None:
        """``currency``: the clinic's currency symbol, shown before the hourly rate."""
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._data_dir = data_dir
        self.settings = load_settings(data_dir)

        self.rate = _number(
            "Hourly labor rate",
            self.settings.hourly_rate,
            maximum=10_000.0,
            step=0.5,
            suffix=" per hour",  # a bare "28.00" left the reader to guess its unit
            tip="What an hour of administrator time costs, in the clinic's currency",
        )
        self.rate.setPrefix(currency)  # as the labor summary writes amounts: "$28.00"
        self.on_cost = _number(
            "On-cost percentage",
            self.settings.on_cost_percent,
            maximum=200.0,
            suffix=" %",
            tip="Super, leave and overheads on top of the hourly rate",
        )
        self.idle = QSpinBox()
        self.idle.setRange(10, 3600)
        self.idle.setSuffix(" s")
        self.idle.setValue(int(self.settings.idle_threshold_seconds))
        self.idle.setAccessibleName("Idle threshold in seconds")
        self.idle.setToolTip(
            "Gaps without keyboard or mouse input longer than this are not counted"
        )
        self.wall_time = QCheckBox("Cost &wall time instead of active time")
        self.wall_time.setChecked(self.settings.use_wall_time)
        self.manual = _number(
            "Manual minutes per merge",
            self.settings.manual_minutes_per_merge,
            maximum=600.0,
            suffix=" min",
            tip="How long a merge took before MergeDesk (the report's baseline)",
        )
        self.automation = _number(
            "Hours the integration saves per month",
            self.settings.automation_hours_saved_per_month or 0.0,
            maximum=10_000.0,
            suffix=" h",
            tip="Staff hours per month the integration (online booking, intake forms...) saves, "
            "e.g. patients no longer typed in by hand x minutes each. The semantic debt ratio "
            "divides the hours spent correcting its duplicates by this. 'Not set': no ratio.",
        )
        self.automation.setSpecialValueText("Not set")
        self.wait_cap = _number(
            "Merge wait counted up to",
            self.settings.merge_wait_cap_minutes,
            maximum=240.0,
            suffix=" min",
            tip="While the merge wizard waits for you to merge in Cliniko, the wait counts as "
            "work up to this many minutes per merge (the report shows how often it was reached)",
        )
        self.watch_every = QSpinBox()
        self.watch_every.setRange(1, 24 * 60)
        self.watch_every.setSuffix(" min")
        self.watch_every.setValue(max(1, round(self.settings.watch_every_minutes)))
        self.watch_every.setAccessibleName("Look for new duplicates every (minutes)")
        self.watch_every.setToolTip(
            "While MergeDesk is open it syncs what changed in Cliniko this often and tells you "
            "about new likely or possible duplicates (one request when nothing changed)"
        )
        self.watch_in_tray = QCheckBox("Keep watching from the tra&y after the window is closed")
        self.watch_in_tray.setChecked(self.settings.watch_in_tray)
        self.no_tray = _explanation(tray.NO_TRAY)
        if not tray.tray_available():
            self.watch_in_tray.setEnabled(False)
            self.watch_in_tray.setChecked(False)
        self.no_tray.setVisible(not self.watch_in_tray.isEnabled())
        self.intake_threshold = _number(
            "Intake alarm threshold",
            self.settings.intake_alarm_threshold * 100,
            maximum=100.0,
            suffix=" %",
            tip="Alarm when more than this share of new patients arrive as a likely duplicate",
        )
        self.intake_minimum = QSpinBox()
        self.intake_minimum.setRange(1, 100_000)
        self.intake_minimum.setValue(int(self.settings.intake_alarm_minimum))
        self.intake_minimum.setAccessibleName("Intake alarm minimum new patients")
        self.intake_minimum.setToolTip(
            "No alarm below this many new patients in the period (too few to mean anything)"
        )
        self.subscription = _number(
            "Integration subscription per month",
            self.settings.integration_subscription_per_month,
            maximum=100_000.0,
            tip="What the integration's vendor charges per month (part of the monthly TCO)",
        )
        self.api_fees = _number(
            "API access fees per month",
            self.settings.integration_api_fees_per_month,
            maximum=100_000.0,
            tip="Per-call, per-patient or setup fees for API access, averaged per month",
        )
        self.after_hours = QCheckBox("Records created after hours or at weekends")
        self.after_hours.setChecked(self.settings.integration_after_hours)
        self.after_hours.setToolTip(
            "Count a duplicate as the integration's when its newer record was created outside "
            "8:00-18:00 Monday to Friday (the account's time zone)"
        )
        self.text_pattern = QLineEdit(self.settings.integration_text_pattern)
        self.text_pattern.setAccessibleName("Integration text in notes or referral source")
        self.text_pattern.setPlaceholderText("e.g. Online booking")
        self.text_pattern.setToolTip(
            "Count a duplicate as the integration's when its newer record's notes or referral "
            "source contain this text (any case)"
        )
        self.cliniko_user = QLineEdit(self.settings.integration_cliniko_user)
        self.cliniko_user.setAccessibleName("Integration Cliniko user")
        self.cliniko_user.setToolTip(
            "Count a duplicate as the integration's when its newer record names this Cliniko "
            "user as its creator (only where the record's data says who created it)"
        )
        self.likely = _number("Likely band threshold", self.settings.likely_threshold, 1.0)
        self.possible = _number("Possible band threshold", self.settings.possible_threshold, 1.0)

        self.integration_help = _explanation(
            "The labor report's integration figures: semantic debt ratio = hours spent merging "
            "duplicates whose newer record matches the rule above / the hours the integration "
            "saves; monthly cost of ownership = subscription + API fees + that merging time at "
            "the labor rate. What the field you are in means shows at the foot of the window."
        )
        self.integration_help.setStyleSheet("color: palette(placeholder-text);")
        self.problem = QLabel()
        self.problem.setStyleSheet(error_style())
        self.problem.setWordWrap(True)
        # The field in use, explained (its tip): reachable from the keyboard, not by hover only.
        self.field_help = QLabel()
        self.field_help.setWordWrap(True)
        self.field_help.setAccessibleName("What this field means")
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.focusChanged.connect(self._focus_moved)
            # Closed, the dialog follows the keyboard no more (it may be deleted after).
            self.finished.connect(lambda _result: app.focusChanged.disconnect(self._focus_moved))

        # Four short pages, not one long form: every explanation has the room its lines need
        # on a small screen too (one long form squeezed the wrapped ones). No two of a page's
        # keys (Alt+letter) are one letter, the tabs' and the buttons' included.
        pages = QTabWidget()
        labor = _page(pages, "&Labor cost")
        labor.addRow("Hourly labor &rate:", self.rate)
        labor.addRow("&On-costs:", self.on_cost)
        labor.addRow("&Idle after:", self.idle)
        labor.addRow("", self.wall_time)
        labor.addRow("Manual &baseline per merge:", self.manual)
        labor.addRow("Merge wait counted &up to:", self.wait_cap)
        integration = _page(pages, "I&ntegration")
        integration.addRow("&Integration saves per month:", self.automation)
        integration.addRow("Integration subscri&ption:", self.subscription)
        integration.addRow("&API access fees:", self.api_fees)
        integration.addRow("Integration's records:", self.after_hours)
        integration.addRow("  …or notes/referral te&xt:", self.text_pattern)
        integration.addRow("  …or created by &user:", self.cliniko_user)
        integration.addRow(self.integration_help)
        watch = _page(pages, "Wa&tch")
        watch.addRow("&Watch for new duplicates every:", self.watch_every)
        watch.addRow(self.watch_in_tray)
        watch.addRow(self.no_tray)
        watch.addRow("Intake &alarm above:", self.intake_threshold)
        watch.addRow("  …with at least (new patients):", self.intake_minimum)
        matching = _page(pages, "Matc&hing")
        matching.addRow('"Li&kely" from probability:', self.likely)
        matching.addRow('"&Possible" from probability:', self.possible)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        # Alt+S as well as Return (the platform's "Save" has no letter of its own).
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Save")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(pages)
        layout.addWidget(self.field_help)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    @Slot(QWidget, QWidget)
    def _focus_moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Show what the field that has the keyboard means (its tip), if it is one of ours."""
        if new is not None and self.isAncestorOf(new):
            self.field_help.setText(new.toolTip())

    def chosen(self) -> Settings:
        """The settings as edited (not yet saved)."""
        s = self.settings
        s.hourly_rate = round(self.rate.value(), 2)
        s.on_cost_percent = round(self.on_cost.value(), 2)
        s.idle_threshold_seconds = int(self.idle.value())
        s.use_wall_time = self.wall_time.isChecked()
        s.manual_minutes_per_merge = round(self.manual.value(), 2)
        s.automation_hours_saved_per_month = round(self.automation.value(), 2) or None
        s.merge_wait_cap_minutes = round(self.wait_cap.value(), 2)
        s.watch_every_minutes = float(self.watch_every.value())
        if self.watch_in_tray.isEnabled():  # no tray now: keep the choice for when there is
            s.watch_in_tray = self.watch_in_tray.isChecked()
        s.intake_alarm_threshold = round(self.intake_threshold.value() / 100, 4)
        s.intake_alarm_minimum = int(self.intake_minimum.value())
        s.integration_subscription_per_month = round(self.subscription.value(), 2)
        s.integration_api_fees_per_month = round(self.api_fees.value(), 2)
        s.integration_after_hours = self.after_hours.isChecked()
        s.integration_text_pattern = self.text_pattern.text().strip()
        s.integration_cliniko_user = self.cliniko_user.text().strip()
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


def _number(
    name: str,
    value: float,
    maximum: float,
    *,
    step: float = 0.01,
    suffix: str = "",
    tip: str = "",
) -> QDoubleSpinBox:
    """A two-decimal spin box from 0 to ``maximum`` with an accessible name."""
    box = QDoubleSpinBox()
    box.setRange(0.0, maximum)
    box.setDecimals(2)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setValue(value)
    box.setAccessibleName(name)
    if tip:
        box.setToolTip(tip)
    return box


def _page(pages: QTabWidget, title: str) -> QFormLayout:
    """A new page of ``pages`` and the form that fills it."""
    page = QWidget()
    form = QFormLayout(page)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    pages.addTab(page, title)
    return form


EXPLANATION_WIDTH = 420  # the narrowest an explanation gets, in pixels


def _explanation(text: str) -> QLabel:
    """A word-wrapped explanation that always has the height its lines need: never narrower
    than ``EXPLANATION_WIDTH``, never shorter than its text at that width."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setMinimumWidth(EXPLANATION_WIDTH)
    label.setMinimumHeight(label.heightForWidth(EXPLANATION_WIDTH))
    return label
