"""Shard parsing from API keys, base URLs, and the HTTPS-only rule."""

from __future__ import annotations

import pytest

from desktop.cliniko import BadKeyFormat, ClinikoClient, InsecureURL
from desktop.cliniko.shards import (
    base_url_for,
    check_base_url,
    is_cliniko_api_host,
    is_loopback_host,
    parse_shard,
)


@pytest.mark.parametrize(
    ("key", "shard"),
    [
        ("MS0xMjM0NTY3ODkwLWFiY2RlZmdo", "au1"),  # old key, no suffix
        ("MS0xMjM0NTY3ODkwLWFiY2RlZmdo-au1", "au1"),
        ("abc123-au2", "au2"),
        ("abc123-au4", "au4"),
        ("abc123-uk2", "uk2"),
        ("abc123-ca1", "ca1"),
        ("abc123-eu1", "eu1"),
        ("abc123-us1", "us1"),
        ("abc123-au10", "au10"),  # one or two digits
        ("abc123-AU2", "au2"),  # hosts are case-insensitive
        ("  abc123-au3\n", "au3"),  # paste artefacts
        ("a_b+c/d=-uk1", "uk1"),  # base64-ish key bodies
    ],
)
def test_parse_shard_accepts(key: str, shard: str) -> None:
    assert parse_shard(key) == shard


@pytest.mark.parametrize(
    "key",
    [
        "",
        "   ",
        "-au1",  # no key body
        "abc-",  # empty suffix
        "abc-au",  # no digits
        "abc-a1",  # one letter
        "abc-aus1",  # three letters
        "abc-au123",  # three digits
        "abc-1au",  # digits first
        "abc-au1-x",  # three parts
        "abc-au1-uk1",
        "ab c-au1",  # whitespace inside
        "abc:def-au1",  # would break Basic auth
        "abcé-au1",  # not ASCII
        "abc-áu1",  # \w must be ASCII, like Cliniko's own check
    ],
)
def test_parse_shard_rejects(key: str) -> None:
    with pytest.raises(BadKeyFormat) as info:
        parse_shard(key)
    assert "doesn't look like a Cliniko API key" in info.value.user_message
    if key.strip():
        assert key.strip() not in str(info.value)
        assert key.strip() not in info.value.user_message


def test_base_url_for_uses_the_shard_host() -> None:
    assert base_url_for("abc123") == "https://api.au1.cliniko.com/v1"
    assert base_url_for("abc123-uk2") == "https://api.uk2.cliniko.com/v1"


def test_bad_key_is_refused_before_any_request() -> None:
    sent: list[object] = []
    with pytest.raises(BadKeyFormat):
        ClinikoClient("not-a-valid-key", on_request=sent.append)
    assert sent == []


def test_client_defaults_to_the_shard_base_url() -> None:
    with ClinikoClient("abc123-ca1") as client:
        assert client.base_url == "https://api.ca1.cliniko.com/v1"


@pytest.mark.parametrize(
    "url",
    [
        "https://api.au1.cliniko.com/v1",
        "https://api.au1.cliniko.com/v1/",
        "https://API.UK2.cliniko.com/v1",
        "https://api.au10.cliniko.com:443/v1",
        "https://127.0.0.1:8443/v1",
        "http://127.0.0.1:8123/v1",
        "http://127.8.9.10:8123/v1",
        "http://localhost:8123/v1",
        "http://LOCALHOST/v1",
        "http://[::1]:8123/v1",
    ],
)
def test_https_or_loopback_http_is_allowed(url: str) -> None:
    assert check_base_url(url) == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://api.au1.cliniko.com/v1",  # plain HTTP to a real host
        "https://example.com/v1",  # HTTPS, but the key must only go to Cliniko
        "https://api.cliniko.com/v1",  # no shard
        "https://api.au1.cliniko.com.evil.example/v1",
        "https://evil.example/api.au1.cliniko.com/v1",
        "https://10.0.0.5/v1",
        "http://10.0.0.5:8123/v1",
        "http://192.168.1.2/v1",
        "http://localhost.evil.example/v1",
        "http://127.0.0.1.nip.io/v1",
        "ftp://127.0.0.1/v1",
        "ws://127.0.0.1/v1",
        "api.au1.cliniko.com/v1",  # no scheme
        "https:///v1",  # no host
        "https://user:pw@api.au1.cliniko.com/v1",  # credentials
        "https://api.au1.cliniko.com/v1?x=1",  # query
        "https://api.au1.cliniko.com:notaport/v1",
    ],
)
def test_everything_else_is_insecure(url: str) -> None:
    with pytest.raises(InsecureURL) as info:
        check_base_url(url)
    assert "secure (HTTPS) connection" in info.value.user_message


def test_client_refuses_insecure_base_url() -> None:
    with pytest.raises(InsecureURL) as info:
        ClinikoClient("abc123-au1", base_url="http://api.au1.cliniko.com/v1")
    assert "only connects to Cliniko's own servers over a secure (HTTPS) connection" in (
        info.value.user_message
    )


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("localhost", True),
        ("127.0.0.1", True),
        ("127.255.255.254", True),
        ("::1", True),
        ("[::1]", True),
        ("128.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
        ("", False),
    ],
)
def test_is_loopback_host(host: str, loopback: bool) -> None:
    assert is_loopback_host(host) is loopback


def test_cliniko_api_hosts() -> None:
    assert is_cliniko_api_host("api.au1.cliniko.com")
    assert is_cliniko_api_host("API.EU1.CLINIKO.COM")
    assert not is_cliniko_api_host("api.cliniko.com")
    assert not is_cliniko_api_host("api.au1.cliniko.com.example")
    assert not is_cliniko_api_host("xapi.au1.cliniko.com")
