"""Cliniko API client: shards, auth, paging, pacing, retries and typed errors."""

from desktop.cliniko.client import HISTORY_RESOURCES, USER_AGENT, ClinikoClient
from desktop.cliniko.errors import (
    BadKeyFormat,
    BadRequest,
    Cancelled,
    ClinikoError,
    ClinikoUnavailable,
    EndlessResponse,
    ForeignLink,
    InsecureURL,
    KeyRejected,
    MalformedResponse,
    NotFound,
    Offline,
    PagingStopped,
    RateLimited,
    RoleNotAllowed,
    TruncatedResponse,
    UnexpectedResponse,
    ValidationFailed,
)
from desktop.cliniko.pacing import Pacer
from desktop.cliniko.pages import Page
from desktop.cliniko.records import RequestRecord, redact_url
from desktop.cliniko.shards import base_url_for, check_base_url, parse_shard

__all__ = [
    "HISTORY_RESOURCES",
    "USER_AGENT",
    "BadKeyFormat",
    "BadRequest",
    "Cancelled",
    "ClinikoClient",
    "ClinikoError",
    "ClinikoUnavailable",
    "EndlessResponse",
    "ForeignLink",
    "InsecureURL",
    "KeyRejected",
    "MalformedResponse",
    "NotFound",
    "Offline",
    "Pacer",
    "Page",
    "PagingStopped",
    "RateLimited",
    "RequestRecord",
    "RoleNotAllowed",
    "TruncatedResponse",
    "UnexpectedResponse",
    "ValidationFailed",
    "base_url_for",
    "check_base_url",
    "parse_shard",
    "redact_url",
]
