"""The labor report's inputs in Settings: typed in, saved with the Save button, each explained."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from ui_helpers import open_settings_page

from desktop.config import load_settings
from desktop.ui.settings_dialog import SettingsDialog


def test_wait_cap_intake_alarm_and_integration_inputs_are_saved(qtbot, data_dir) -> None:
    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.wait_cap.value() == 20 and dialog.intake_threshold.value() == 3
    assert dialog.intake_minimum.value() == 50
    for box in (dialog.wait_cap, dialog.subscription, dialog.api_fees, dialog.automation,
                dialog.intake_threshold, dialog.intake_minimum, dialog.after_hours,
                dialog.text_pattern, dialog.cliniko_user):  # fmt: skip
        assert len(box.toolTip()) > 40  # every input says what it is for
    dialog.wait_cap.setValue(30)
    open_settings_page(qtbot, dialog, dialog.intake_threshold)
    dialog.intake_threshold.setValue(5)
    dialog.intake_minimum.setValue(80)
    open_settings_page(qtbot, dialog, dialog.subscription)
    dialog.subscription.setValue(149)
    dialog.api_fees.setValue(40.5)
    dialog.automation.setValue(6)
    qtbot.mouseClick(dialog.after_hours, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.text_pattern, "  Online booking ")
    qtbot.keyClicks(dialog.cliniko_user, "FormBot")
    box = dialog.findChild(QDialogButtonBox)
    qtbot.mouseClick(box.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    saved = load_settings(data_dir)
    assert saved.merge_wait_cap_minutes == 30
    assert (saved.intake_alarm_threshold, saved.intake_alarm_minimum) == (0.05, 80)
    assert saved.integration_subscription_per_month == 149
    assert saved.integration_api_fees_per_month == 40.5
    assert saved.automation_hours_saved_per_month == 6
    assert saved.integration_after_hours is True
    assert saved.integration_text_pattern == "Online booking"
    assert saved.integration_cliniko_user == "FormBot"


def test_the_field_with_the_keyboard_is_explained_without_hovering(qtbot, data_dir) -> None:
    """Each field's meaning was only a hover tip: a keyboard walk could not read it. The
    field Tab reaches is explained at the foot of the window."""
    dialog = SettingsDialog(data_dir)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    dialog.rate.setFocus()
    qtbot.keyClick(dialog.rate, Qt.Key.Key_Tab)  # on to the on-costs
    qtbot.waitUntil(lambda: dialog.focusWidget() is not dialog.rate)
    field = dialog.focusWidget()
    assert field.toolTip() and dialog.field_help.text() == field.toolTip()
    assert dialog.field_help.isVisible()
