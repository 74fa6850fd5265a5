"""The PROXY protocol preamble and the trusted-peer lists."""

import struct
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors
from minigun.http.message import ParseRules, Request
from minigun.http.proxy import V2_SIGNATURE, ip_allowed
from minigun.http.unreader import IterUnreader

TRUSTED = ("127.0.0.1", 40000)
UNTRUSTED = ("203.0.113.9", 40000)
GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


def request(raw: bytes, peer: Any = TRUSTED, **settings: Any) -> Request:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return Request(ParseRules.from_config(cfg), IterUnreader([raw]), peer)


def v2_header(command: int, family: int, block: bytes) -> bytes:
    """Signature, version 2 with ``command``, ``family``, then the address block."""
    return (
        V2_SIGNATURE
        + bytes([0x20 | command, family])
        + struct.pack("!H", len(block))
        + block
    )


@pytest.mark.parametrize(
    ("peer", "allowed", "trusted"),
    [
        (("127.0.0.1", 1), ["127.0.0.1", "::1"], True),
        (("10.1.2.3", 1), ["10.0.0.0/8"], True),
        (("10.1.2.3", 1), ["127.0.0.1"], False),
        (("::1", 1, 0, 0), ["::1"], True),
        (("192.0.2.1", 1), ["*"], True),
        ("/run/minigun.sock", ["127.0.0.1"], True),
        ("", [], True),
    ],
)
def test_ip_allowed(peer: Any, allowed: list[str], trusted: bool) -> None:
    assert ip_allowed(peer, allowed) is trusted


def test_proxy_v1_names_the_client() -> None:
    raw = b"PROXY TCP4 192.0.2.1 192.0.2.2 5000 443\r\n" + GET
    req = request(raw, proxy_protocol="v1")
    info = req.proxy_protocol_info
    assert info is not None
    assert (info.client_addr, info.client_port) == ("192.0.2.1", 5000)
    assert (info.proxy_addr, info.proxy_port) == ("192.0.2.2", 443)
    assert req.method == "GET"


def test_proxy_v2_names_the_client() -> None:
    addresses = bytes([192, 0, 2, 1, 192, 0, 2, 2]) + struct.pack("!HH", 5000, 443)
    header = b"\r\n\r\n\x00\r\nQUIT\n" + bytes([0x21, 0x11]) + struct.pack("!H", 12)
    req = request(header + addresses + GET, proxy_protocol="auto")
    info = req.proxy_protocol_info
    assert info is not None
    assert (info.proxy_protocol, info.client_addr, info.client_port) == (
        "TCP4",
        "192.0.2.1",
        5000,
    )


def test_proxy_auto_reads_nothing_when_there_is_no_preamble() -> None:
    req = request(GET, proxy_protocol="auto")
    assert req.proxy_protocol_info is None


def test_proxy_v1_requires_the_line() -> None:
    with pytest.raises(errors.InvalidProxyLine):
        request(GET, proxy_protocol="v1")


def test_a_proxy_line_from_an_unlisted_peer_is_forbidden() -> None:
    raw = b"PROXY TCP4 192.0.2.1 192.0.2.2 5000 443\r\n" + GET
    with pytest.raises(errors.ForbiddenProxyRequest) as caught:
        request(raw, peer=UNTRUSTED, proxy_protocol="auto")
    assert caught.value.status_code == 403


@pytest.mark.parametrize(
    "line",
    [
        b"PROXY TCP4 192.0.2.1 192.0.2.2 5000\r\n",
        b"PROXY TCP4 192.0.2.1 192.0.2.2 +500 443\r\n",
        b"PROXY TCP4 192.0.2.1 192.0.2.2 70000 443\r\n",
        b"PROXY TCP6 192.0.2.1 192.0.2.2 5000 443\r\n",
        b"PROXY UDP4 192.0.2.1 192.0.2.2 5000 443\r\n",
        b"PROXY TCP4 " + b"1" * 200 + b"\r\n",
    ],
)
def test_malformed_proxy_lines(line: bytes) -> None:
    with pytest.raises(errors.InvalidProxyLine):
        request(line + GET, proxy_protocol="auto")


def test_proxy_v2_ipv6() -> None:
    block = bytes(15) + b"\x01" + bytes(15) + b"\x02" + struct.pack("!HH", 7, 8)
    req = request(v2_header(1, 0x21, block) + GET, proxy_protocol="auto")
    info = req.proxy_protocol_info
    assert info is not None
    assert (info.proxy_protocol, info.client_addr, info.proxy_addr) == (
        "TCP6",
        "::1",
        "::2",
    )


def test_proxy_v2_local_names_no_client() -> None:
    req = request(v2_header(0, 0x00, b"") + GET, proxy_protocol="auto")
    assert req.proxy_protocol_info is not None
    assert req.proxy_protocol_info.client_addr is None
    assert req.method == "GET"


@pytest.mark.parametrize(
    "header",
    [
        V2_SIGNATURE + b"\x11\x11\x00\x00",  # version 1 in a version 2 header
        v2_header(5, 0x11, bytes(12)),  # an unknown command
        v2_header(1, 0x11, bytes(4)),  # an address block too short for IPv4
        V2_SIGNATURE + b"\x21\x11\x00\x0c" + bytes(3),  # cut off
    ],
)
def test_malformed_proxy_v2_headers(header: bytes) -> None:
    with pytest.raises(errors.InvalidProxyHeader):
        request(header, proxy_protocol="auto")


def test_only_the_first_request_may_carry_a_preamble() -> None:
    cfg = Config()
    cfg.set("proxy_protocol", "auto")
    raw = b"PROXY TCP4 192.0.2.1 192.0.2.2 5000 443\r\n" + GET
    with pytest.raises(errors.InvalidRequestLine):
        Request(ParseRules.from_config(cfg), IterUnreader([raw]), TRUSTED, req_number=2)
