"""Turning Cliniko's HTTP responses into JSON values or typed errors."""

from __future__ import annotations

from typing import Any

import httpx

from desktop.cliniko import errors
from desktop.cliniko.deep_json import loads_cutting_deep_values
from desktop.cliniko.records import redact_url

MAX_MESSAGE_CHARS = 300


def decode_json(response: httpx.Response, *, list_page: bool = False) -> Any:
    """Parse a response body as JSON.

    Args:
        list_page: the body is a list envelope; a value nested too deeply inside one of its
            records is replaced by :data:`~desktop.cliniko.deep_json.TOO_DEEP` (the sync keeps
            that record aside) instead of failing the page.

    Raises:
        MalformedResponse: the body is not JSON: cut off, invalid, or nested so deeply that
            reading it would exhaust the stack.
    """
    try:
        return response.json()
    except RecursionError:
        body = loads_cutting_deep_values(response.content) if list_page else None
        if body is not None:
            return body
        reason = "its data was nested far too deeply"
    except UnicodeDecodeError:
        reason = "it was not valid text"
    except ValueError:
        reason = "it was cut off or was not valid JSON"
    raise errors.MalformedResponse(reason, **_where(response)) from None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """Parse a response body that must be a JSON object.

    Raises:
        UnexpectedResponse: the body is not JSON or not an object.
    """
    body = decode_json(response)
    if not isinstance(body, dict):
        raise errors.UnexpectedResponse("response is not a JSON object", **_where(response))
    return body


def error_for(response: httpx.Response, method: str, path: str) -> errors.ClinikoError:
    """The typed error for a non-2xx, non-retried response.

    Args:
        response: the final response.
        method: the request's method.
        path: the request's redacted path.
    """
    status = response.status_code
    where: dict[str, Any] = {"status": status, "method": method, "path": path}
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        body = {}
    message = body.get("message")
    message = message[:MAX_MESSAGE_CHARS] if isinstance(message, str) else None
    if status == 401:
        return errors.KeyRejected(**where)
    if status == 403:
        return errors.RoleNotAllowed(**where)
    if status == 404:
        return errors.NotFound(**where)
    if status == 422:
        field_errors = field_error_map(body.get("errors"))
        detail = "fields: " + ", ".join(field_errors) if field_errors else ""
        return errors.ValidationFailed(detail, field_errors=field_errors, message=message, **where)
    if status == 400:
        return errors.BadRequest(message=message, **where)
    return errors.UnexpectedResponse(**where)


def field_error_map(raw: Any) -> dict[str, str]:
    """Cliniko's ``errors`` value as ``{field: message}``; list messages are joined with ``; ``."""
    if not isinstance(raw, dict):
        return {}
    result: dict[str, str] = {}
    for name, reason in raw.items():
        if isinstance(reason, list | tuple):
            result[str(name)] = "; ".join(str(r) for r in reason)
        else:
            result[str(name)] = str(reason)
    return result


def _where(response: httpx.Response) -> dict[str, Any]:
    return {
        "status": response.status_code,
        "method": response.request.method,
        "path": redact_url(str(response.url)),
    }
