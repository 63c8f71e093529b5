"""Every client error speaks plain words and never leaks data into its text."""

from __future__ import annotations

import pytest

from desktop.cliniko import errors

SECRET_PATH = "/v1/patients?q[]=last_name:~…"


@pytest.mark.parametrize(
    ("cls", "phrases"),
    [
        (errors.BadKeyFormat, ["doesn't look like a Cliniko API key", "Manage API keys"]),
        (
            errors.KeyRejected,
            ["did not accept this API key", "revoked", "My info > Manage API keys"],
        ),
        (errors.RoleNotAllowed, ["not allowed to do this", "Cliniko administrator"]),
        (errors.NotFound, ["could not find this record"]),
        (errors.RateLimited, ["limiting how fast", "Nothing was lost"]),
        (errors.ClinikoUnavailable, ["having trouble", "work is saved"]),
        (errors.Offline, ["Can't reach Cliniko. Check your internet connection"]),
        (errors.InsecureURL, ["secure (HTTPS) connection"]),
        (errors.Cancelled, ["cancelled"]),
        (errors.UnexpectedResponse, ["didn't understand", "support@mergedesk.app"]),
    ],
)
def test_user_messages(cls: type[errors.ClinikoError], phrases: list[str]) -> None:
    error = cls("detail", status=500, method="GET", path=SECRET_PATH)
    assert isinstance(error, errors.ClinikoError)
    for phrase in phrases:
        assert phrase in error.user_message
    assert "http" not in error.user_message.lower().replace("https)", "")


def test_str_names_the_call_not_the_data() -> None:
    error = errors.NotFound(status=404, method="GET", path="/v1/patients/12")
    assert str(error) == "NotFound: GET /v1/patients/12: HTTP 404"


def test_validation_lists_each_field() -> None:
    error = errors.ValidationFailed(
        field_errors={"first_name": "can't be blank", "email": "is invalid"}, status=422
    )
    assert error.user_message == (
        "Cliniko did not accept the changes:\n- first_name: can't be blank\n- email: is invalid"
    )
    assert error.field_errors["first_name"] == "can't be blank"


def test_validation_without_fields_uses_the_message() -> None:
    error = errors.ValidationFailed(message="must be an object", status=422)
    assert error.user_message == "Cliniko did not accept the changes: must be an object"
    assert error.field_errors == {}


def test_bad_request_quotes_cliniko() -> None:
    error = errors.BadRequest(message="recall_at is not filterable", status=400)
    assert "Cliniko rejected the request (recall_at is not filterable)" in error.user_message
