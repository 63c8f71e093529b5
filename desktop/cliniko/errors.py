"""Typed errors raised by the Cliniko client.

Every error is a :class:`ClinikoError` with a ``user_message`` written for a practice
administrator. Neither ``user_message`` nor ``str(error)`` ever contains patient data, the API
key, or a URL with query values: ``str(error)`` names the method, the redacted path and the
status, which is enough for a log or a crash report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUPPORT_HINT = "If it keeps happening, contact support@mergedesk.app."


class ClinikoError(Exception):
    """Base class of every error the Cliniko client raises."""

    default_message = "Something went wrong while talking to Cliniko. " + SUPPORT_HINT

    def __init__(
        self,
        detail: str = "",
        *,
        status: int | None = None,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Create the error.

        Args:
            detail: a technical description for logs (no patient data, no key).
            status: the HTTP status, when there was a response.
            method: the HTTP method of the failed request.
            path: the redacted path of the failed request (see ``records.redact_url``).
        """
        self.detail = detail
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        parts = [type(self).__name__]
        if self.method and self.path:
            parts.append(f"{self.method} {self.path}")
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.detail:
            parts.append(self.detail)
        return ": ".join(parts)

    @property
    def user_message(self) -> str:
        """A plain-words explanation for the administrator."""
        return self.default_message


class BadKeyFormat(ClinikoError):
    """The API key is not shaped like a Cliniko key; nothing was sent."""

    default_message = (
        "That doesn't look like a Cliniko API key. Copy the whole key from Cliniko "
        "(My info > Manage API keys) and paste it again."
    )


class KeyRejected(ClinikoError):
    """Cliniko answered 401: the key is wrong, revoked or belongs to another shard."""

    refused = "Cliniko did not accept this API key. It may have been revoked or mistyped."
    _create = "Create a new key in Cliniko under My info > Manage API keys"
    default_message = (
        f"{refused} {_create}, then paste it into MergeDesk: File > Change Cliniko API key…"
    )
    command_line_message = f"{refused} {_create}, then save it with: mergedesk login"


class RoleNotAllowed(ClinikoError):
    """Cliniko answered 403: the key owner's security role does not allow this."""

    default_message = (
        "Your Cliniko user is not allowed to do this. Ask a Cliniko administrator to give "
        "your user a role that can view and edit patients, then try again."
    )


class NotFound(ClinikoError):
    """Cliniko answered 404: the record does not exist (or is not visible to this key)."""

    default_message = (
        "Cliniko could not find this record. It may have been deleted or merged in Cliniko "
        "since MergeDesk last synced."
    )


class ValidationFailed(ClinikoError):
    """Cliniko answered 422. ``field_errors`` maps each field to Cliniko's message."""

    def __init__(
        self,
        detail: str = "",
        *,
        field_errors: Mapping[str, str] | None = None,
        message: str | None = None,
        **kwargs: Any,
    ) -> None:
        """Create the error from Cliniko's ``errors`` mapping and top-level ``message``."""
        self.field_errors: dict[str, str] = dict(field_errors or {})
        self.message = message
        super().__init__(detail, **kwargs)

    @property
    def user_message(self) -> str:
        """List each rejected field with Cliniko's reason, one per line."""
        if self.field_errors:
            lines = [f"- {field}: {reason}" for field, reason in self.field_errors.items()]
            return "Cliniko did not accept the changes:\n" + "\n".join(lines)
        if self.message:
            return f"Cliniko did not accept the changes: {self.message}"
        return "Cliniko did not accept the changes."


class BadRequest(ClinikoError):
    """Cliniko answered 400 (for example a filter on a field that can't be filtered)."""

    def __init__(self, detail: str = "", *, message: str | None = None, **kwargs: Any) -> None:
        """Create the error with Cliniko's own message, if it sent one."""
        self.message = message
        super().__init__(detail, **kwargs)

    @property
    def user_message(self) -> str:
        """Cliniko's reason, in its own words."""
        reason = self.message or "no reason given"
        return f"Cliniko rejected the request ({reason}). {SUPPORT_HINT}"


class RateLimited(ClinikoError):
    """Cliniko kept answering 429 after every allowed wait."""

    default_message = (
        "Cliniko is limiting how fast MergeDesk may send requests. Nothing was lost: "
        "wait a minute and try again."
    )


class ClinikoUnavailable(ClinikoError):
    """Cliniko answered 5xx (or stopped answering) on every attempt."""

    default_message = (
        "Cliniko is having trouble right now (server error). Your work is saved; "
        "try again in a few minutes."
    )


class Offline(ClinikoError):
    """The network failed on every attempt: no connection, DNS failure, dropped connections."""

    default_message = (
        "Can't reach Cliniko. Check your internet connection; your work is saved and will "
        "continue offline."
    )


class TruncatedResponse(Offline):
    """Cliniko's answer stopped part-way on every attempt (the connection was reached)."""

    default_message = (
        "Cliniko's answer was cut off part-way, on every try. Your connection reached "
        "Cliniko, so this is most likely on Cliniko's side. Nothing was lost: try again in a "
        "few minutes. " + SUPPORT_HINT
    )


class NoAnswer(Offline):
    """The connection to Cliniko was made, but no answer came in time (or it broke off
    before one), on every attempt."""

    default_message = (
        "MergeDesk reached Cliniko, but no answer came in time, on every try (a slow or "
        "unsteady connection, or trouble on Cliniko's side). Your work is saved; try again in "
        "a few minutes."
    )


class InsecureURL(ClinikoError):
    """A URL other than HTTPS (or plain HTTP to loopback), or a link to a foreign host."""

    default_message = (
        "MergeDesk only connects to Cliniko's own servers over a secure (HTTPS) connection, "
        "so this address was refused. " + SUPPORT_HINT
    )


class ForeignLink(InsecureURL):
    """Cliniko's answer linked to another host (or outside the API): not followed."""

    default_message = (
        "Cliniko's answer pointed to a page on another server. MergeDesk did not follow it "
        "(your API key was not sent there) and stopped reading. What was downloaded is kept. "
        + SUPPORT_HINT
    )


class Cancelled(ClinikoError):
    """The caller's cancel event was set."""

    default_message = "The operation was cancelled."


class UnexpectedResponse(ClinikoError):
    """Cliniko answered with something the client can't use (non-JSON, odd status, ...)."""

    default_message = (
        "Cliniko sent a response MergeDesk didn't understand. Try again later. " + SUPPORT_HINT
    )


class EndlessResponse(UnexpectedResponse):
    """Cliniko's answer went on past any real answer's size or time; reading stopped (the
    connection worked: this is no "offline")."""

    default_message = (
        "Cliniko's answer went on far longer than any answer should, so MergeDesk stopped "
        "reading it. Nothing was lost: try again in a few minutes. " + SUPPORT_HINT
    )


class PagingStopped(UnexpectedResponse):
    """A list kept pointing on without progress (a loop, empty pages, too many pages)."""

    default_message = (
        "Cliniko's list of records kept pointing to more pages without giving anything new "
        "({reason}), so MergeDesk stopped reading it. Everything downloaded so far is kept; "
        "the next sync reads the list again. " + SUPPORT_HINT
    )

    @property
    def user_message(self) -> str:
        """Say what the list did."""
        return self.default_message.format(reason=self.detail or "it went round in a loop")


class MalformedResponse(UnexpectedResponse):
    """The body could not be read as the JSON it should be (cut off, invalid, too deep)."""

    default_message = (
        "Cliniko sent an answer MergeDesk could not read ({reason}). Nothing was lost and "
        "nothing was changed: try again later. " + SUPPORT_HINT
    )

    @property
    def user_message(self) -> str:
        """Say what was wrong with the answer."""
        return self.default_message.format(reason=self.detail or "it was not valid JSON")
