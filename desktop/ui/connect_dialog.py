"""Paste the Cliniko API key, check it against Cliniko, keep it in the keychain: at the first
start, and later in place of a key Cliniko no longer accepts (File > Change Cliniko API key…)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop import APP_NAME
from desktop import secrets as keychain
from desktop.account import Account, fetch_account
from desktop.cliniko.client import ClinikoClient
from desktop.cliniko.errors import BadKeyFormat, KeyRejected, Offline
from desktop.cliniko.shards import parse_shard
from desktop.session import OtherAccountsCache, refuse_another_clinic
from desktop.ui.theme import error_style
from desktop.ui.workers import Job, Workers

WHAT_IT_DOES = (
    f"{APP_NAME} reads your patients from Cliniko to find duplicates. It changes a record in "
    "Cliniko only when you apply a merge you planned, and the merge itself is done by you, on "
    "Cliniko's own merge page."
)
WHERE_DATA_STAYS = (
    "The copy of your patients stays on this computer, encrypted; the key is kept in your "
    "system keychain. Nothing is sent anywhere but to Cliniko."
)
REGIONS = {
    "au": "Australia",
    "uk": "the United Kingdom",
    "ca": "Canada",
    "eu": "Europe",
    "us": "the United States",
    "nz": "New Zealand",
}
# Before the first connect there is no work to keep or to continue offline with.
NOT_REACHED = "Can't reach Cliniko. Check your internet connection, then check the key again."
WRONG_KEY_HELP = (
    "Check that you copied the whole key, including its end (such as “-au2”): it says which of "
    "Cliniko's servers the key is for."
)


def new_key_words(clinic: str) -> str:
    """What the dialog replacing a key says first."""
    return (
        f"Cliniko no longer accepts a key once it is revoked or replaced. Paste a new key of "
        f"{clinic}: the patients on this computer are that clinic's, so a key of another "
        "clinic is refused. Your queue, plans and time records stay as they are."
    )


def shard_words(api_key: str, base_url: str | None = None) -> str:
    """Which of Cliniko's servers a key is for, in words ("" for an empty key); with a
    ``base_url`` from settings.json, that this server is used instead."""
    if not api_key.strip():
        return ""
    try:
        shard = parse_shard(api_key)
    except BadKeyFormat:
        return BadKeyFormat.default_message
    region = REGIONS.get(shard[:2])
    where = f"Cliniko's servers in {region}" if region else "Cliniko's server"
    if base_url:
        return (
            f"This key is for {where} ({shard}), but {APP_NAME} will talk to {base_url}, "
            "the server set in settings.json."
        )
    return f"This key is for {where} ({shard}): {APP_NAME} will talk to api.{shard}.cliniko.com."


@dataclass(frozen=True)
class ConnectionInfo:
    """Who a checked key belongs to."""

    api_key: str
    user_name: str
    account_name: str
    base_url: str | None


def check_key(api_key: str, base_url: str | None, clinic: Account | None = None) -> ConnectionInfo:
    """Ask Cliniko who owns the key (``GET /user``) and which clinic (``GET /settings/public``).

    Raises:
        OtherAccountsCache: ``clinic`` (the cache's) is given and the key is another clinic's.
    """
    with ClinikoClient(api_key, base_url=base_url, max_retries=1, timeout=15) as client:
        user: dict[str, Any] = client.get_user()
        account = fetch_account(client, user)
    refuse_another_clinic(clinic, account)
    name = " ".join(filter(None, [user.get("first_name"), user.get("last_name")]))
    return ConnectionInfo(
        api_key=api_key,
        user_name=name or str(user.get("email") or "your Cliniko user"),
        account_name=account.name or "your clinic",
        base_url=base_url,
    )


class ConnectDialog(QDialog):
    """Asks for the API key, checks it in a worker, shows clinic and user, stores the key.

    The first window of a new install, so it also welcomes: what the app reads and changes,
    where the data stays, and "Try it on a sample clinic" for a look before handing over a key
    (then :attr:`wants_demo` is True and the dialog is accepted). Given the ``clinic`` of a
    cache, it replaces that clinic's key instead, and refuses a key of another clinic.

    Signals:
        connected(ConnectionInfo): the key works and is saved in the keychain.
    """

    connected = Signal(object)

    def __init__(
        self,
        base_url: str | None = None,
        parent: QWidget | None = None,
        *,
        data_dir: Path | None = None,
        clinic: Account | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(
            f"Welcome to {APP_NAME}" if clinic is None else "Change the Cliniko API key"
        )
        self.setMinimumWidth(560)
        self._base_url = base_url
        self._data_dir = data_dir  # whose key this is (None: the platform's own data folder)
        self._clinic = clinic  # the cache's clinic, whose key this replaces (None: first start)
        self._workers = Workers(self)
        self.info: ConnectionInfo | None = None
        self.wants_demo = False

        welcome = QLabel(
            f"<h3>Connect {APP_NAME} to your Cliniko account</h3>"
            f"<p>{_html(WHAT_IT_DOES)}</p><p>{_html(WHERE_DATA_STAYS)}</p>"
            if clinic is None
            else f"<h3>A new Cliniko API key for {_html(clinic.name or 'your clinic')}</h3>"
            f"<p>{_html(new_key_words(clinic.name or 'your clinic'))}</p>"
        )
        welcome.setTextFormat(Qt.TextFormat.RichText)
        welcome.setWordWrap(True)
        welcome.setAccessibleName("What MergeDesk does")
        self.welcome_label = welcome
        intro = QLabel(
            "Paste your Cliniko API key. You find it in Cliniko under "
            "<b>My info &gt; Manage API keys</b>. It is checked with Cliniko and then kept "
            "only in your system keychain."
        )
        intro.setTextFormat(Qt.TextFormat.RichText)
        intro.setWordWrap(True)
        self.intro_label = intro
        self.keychain_label = QLabel()
        self.keychain_label.setWordWrap(True)
        self.keychain_label.setAccessibleName("Keychain status")

        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("Your Cliniko API key")
        self.key_edit.setAccessibleName("Cliniko API key")
        self.key_edit.returnPressed.connect(self.check)
        self.key_edit.textChanged.connect(self.show_shard)
        self.shard_label = QLabel()
        self.shard_label.setWordWrap(True)
        # Escaped text: read as rich text, "My info > Manage API keys" shows ">", not "&gt;".
        self.shard_label.setTextFormat(Qt.TextFormat.RichText)
        self.shard_label.setMinimumHeight(2 * self.shard_label.fontMetrics().lineSpacing())
        self.shard_label.setAccessibleName("Which Cliniko server the key is for")
        self.demo_button = QPushButton("Try it on a &sample clinic")
        self.demo_button.setAccessibleName("Try it on a sample clinic")
        self.demo_button.setToolTip(
            "Open MergeDesk on a made-up clinic, kept apart from your real data. No key needed."
        )
        self.demo_button.clicked.connect(self.choose_demo)
        self.check_button = QPushButton("&Check key")
        self.check_button.setAccessibleName("Check key")
        self.check_button.setToolTip("Check the key with Cliniko (Enter)")
        self.check_button.clicked.connect(self.check)

        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setTextFormat(Qt.TextFormat.RichText)
        # Room for a two-line answer from the start: a dialog that had to grow for it would
        # squeeze the word-wrapped text above instead (a line of the welcome went missing).
        self.status_label.setMinimumHeight(3 * self.status_label.fontMetrics().lineSpacing())
        self.status_label.setAccessibleName("Connection result")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("C&ontinue" if clinic is None else "&Use this key")
        self.ok_button.setEnabled(False)
        self.cancel_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setText("&Quit" if clinic is None else "Cancel")
        self.cancel_button.setToolTip(
            f"Close {APP_NAME}. Open it again when you have your key, or try the sample clinic."
            if clinic is None
            else f"Keep the key {APP_NAME} has"
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.check_button)
        form = QFormLayout()
        key_label = QLabel("API &key:")
        key_label.setBuddy(self.key_edit)
        form.addRow(key_label, key_row)
        form.addRow("", self.shard_label)
        layout = QVBoxLayout(self)
        layout.addWidget(welcome)
        layout.addWidget(intro)
        layout.addWidget(self.keychain_label)
        layout.addLayout(form)
        if clinic is None:  # with a clinic's cache open, no sample clinic in its place
            sample_row = QHBoxLayout()
            sample_row.addWidget(QLabel("No key at hand, or want to look first?"))
            sample_row.addWidget(self.demo_button)
            sample_row.addStretch(1)
            layout.addLayout(sample_row)
        else:
            self.demo_button.setParent(self)
            self.demo_button.hide()
        layout.addWidget(self.status_label)
        layout.addStretch(1)
        layout.addWidget(self.buttons)
        self.show_keychain_status()

    @Slot()
    def show_keychain_status(self) -> None:
        """Say in plain words whether the keychain can hold the key."""
        status = keychain.keyring_status()
        ok = status.state is keychain.KeyringState.AVAILABLE
        self.keychain_label.setText(status.message)
        self.keychain_label.setStyleSheet("" if ok else error_style())

    @Slot(str)
    def show_shard(self, text: str) -> None:
        """Say which of Cliniko's servers the key is for, as it is typed or pasted (a problem
        found with the key before is about another key now: it goes)."""
        self.shard_label.setText(_html(shard_words(text, self._base_url)))
        if not self.ok_button.isEnabled() and not self._workers.is_running("connect"):
            self.status_label.clear()

    @Slot()
    def choose_demo(self) -> None:
        """Open the sample clinic instead (its data is kept apart from a real clinic's)."""
        self.wants_demo = True
        self.accept()

    @Slot()
    def check(self) -> None:
        """Check the key with Cliniko in the background."""
        key = self.key_edit.text().strip()
        if not key:
            self.show_error("Paste your Cliniko API key first.")
            return
        if self._workers.is_running("connect"):
            return
        self.check_button.setEnabled(False)
        self.ok_button.setEnabled(False)
        self.status_label.setText("Checking the key with Cliniko…")
        base_url, clinic = self._base_url, self._clinic
        job = Job("connect", lambda _job: check_key(key, base_url, clinic))
        job.succeeded.connect(self._on_checked)
        job.failed.connect(self._on_failed)
        self._workers.start(job)

    @Slot(object)
    def _on_checked(self, info: ConnectionInfo) -> None:
        self.check_button.setEnabled(True)
        try:
            keychain.store_api_key(info.api_key, self._data_dir)
        except keychain.SecretsError as error:
            self.show_error(
                f"The key works (clinic: {info.account_name}, user: {info.user_name}), "
                f"but it could not be saved. {error.user_message}"
            )
            self.show_keychain_status()
            return
        self.info = info
        self.status_label.setStyleSheet("")
        self.status_label.setText(
            f"Connected to <b>{_html(info.account_name)}</b> as "
            f"<b>{_html(info.user_name)}</b>. The key is saved in your system keychain."
        )
        if self._clinic is not None:  # the new key is saved and used: no old key to keep
            self.cancel_button.hide()
        self.ok_button.setEnabled(True)
        self.ok_button.setFocus()  # Return now goes on (after the hide, which took the focus)
        self.connected.emit(info)

    @Slot(str, object)
    def _on_failed(self, message: str, error: object) -> None:
        self.check_button.setEnabled(True)
        if isinstance(error, KeyRejected):  # here is where a new key is pasted
            message = f"{KeyRejected.refused}\n{WRONG_KEY_HELP}"
        if isinstance(error, OtherAccountsCache):
            message = (
                f"{error.clinics} Paste a key of the first clinic; the key {APP_NAME} has is kept."
            )
        if type(error) is Offline:  # not its kinds that did reach Cliniko (a cut-off answer)
            message = NOT_REACHED
        if isinstance(error, BadKeyFormat):
            self.shard_label.clear()  # it said so as the key was typed: say it once, here
        self.show_error(message)

    def show_error(self, message: str) -> None:
        """Show a problem in plain words."""
        self.status_label.setStyleSheet(error_style())
        self.status_label.setText(_html(message).replace("\n", "<br>"))
        self.grow_to_fit()

    def grow_to_fit(self) -> None:
        """Grow (never shrink) to every line of the text: a window too short for a long
        answer squeezed the word-wrapped welcome above it (a line of it went missing)."""
        layout = self.layout()
        if layout is None:
            return
        layout.activate()
        needed = layout.totalHeightForWidth(self.width())
        if needed > self.height():
            self.resize(self.width(), needed)

    def done(self, result: int) -> None:
        """Stop a running check before closing."""
        self._workers.stop_all()
        super().done(result)


def _html(text: str) -> str:
    from html import escape

    return escape(text, quote=False)
