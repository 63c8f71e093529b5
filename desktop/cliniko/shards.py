"""API keys, shards and base URLs.

Every Cliniko key ends in ``-<shard>`` (``...-au2``); keys without a suffix are old ``au1``
keys. The shard picks the host: ``https://api.<shard>.cliniko.com/v1``. Only HTTPS to that
host is allowed, and loopback (the local simulator, plain HTTP allowed there).
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from desktop.cliniko.errors import BadKeyFormat, InsecureURL

DEFAULT_SHARD = "au1"
_SHARD_RE = re.compile(r"\w{2}\d{1,2}", re.ASCII)
_CLINIKO_API_HOST_RE = re.compile(r"api\.[a-z0-9_]{2}\d{1,2}\.cliniko\.com", re.ASCII)
# Printable ASCII except ':' (it would end the Basic-auth username) and whitespace.
_KEY_PART_RE = re.compile(r"[!-9;-~]+", re.ASCII)


def parse_shard(api_key: str) -> str:
    """Return the shard a key belongs to (``"au1"`` for keys without a suffix).

    Leading and trailing whitespace (a paste artefact) is ignored.

    Raises:
        BadKeyFormat: the key is empty, has more than one ``-``, a malformed shard suffix,
            or characters no key can contain. The key itself is never put in the error.
    """
    if not isinstance(api_key, str):
        raise BadKeyFormat("key is not a string")
    parts = api_key.strip().split("-")
    if not parts[0] or not _KEY_PART_RE.fullmatch(parts[0]):
        raise BadKeyFormat("key body is empty or has characters a key can't contain")
    if len(parts) == 1:
        return DEFAULT_SHARD
    if len(parts) == 2 and _SHARD_RE.fullmatch(parts[1]):
        return parts[1].lower()
    raise BadKeyFormat("key does not end in a valid -<shard> suffix")


def base_url_for(api_key: str) -> str:
    """Return ``https://api.<shard>.cliniko.com/v1`` for a key.

    Raises:
        BadKeyFormat: as :func:`parse_shard`.
    """
    return f"https://api.{parse_shard(api_key)}.cliniko.com/v1"


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ::1 (brackets allowed)."""
    host = host.strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_cliniko_api_host(host: str) -> bool:
    """True for ``api.<shard>.cliniko.com`` (any shard shaped like ``au1``)."""
    return bool(_CLINIKO_API_HOST_RE.fullmatch(host.lower()))


def check_base_url(url: str) -> str:
    """Validate a base URL and return it without a trailing slash.

    Accepted: HTTPS to ``api.<shard>.cliniko.com`` or to loopback, and plain HTTP to
    loopback (the local simulator). The API key is never sent anywhere else.

    Raises:
        InsecureURL: another scheme or host, plain HTTP to a non-loopback host, credentials
            or a query in the URL, or no host at all.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port  # raises ValueError for a malformed port
    except ValueError as exc:
        raise InsecureURL("base URL can't be parsed") from exc
    if not host or parts.username or parts.password or parts.query or parts.fragment:
        raise InsecureURL("base URL must be scheme://host[:port]/path only")
    scheme = parts.scheme.lower()
    if scheme == "https" and (is_cliniko_api_host(host) or is_loopback_host(host)):
        return url.rstrip("/")
    if scheme == "http" and is_loopback_host(host):
        return url.rstrip("/")
    raise InsecureURL(f"refused {scheme or 'schemeless'} URL to a host that is not Cliniko's")
