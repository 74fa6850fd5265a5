"""Who is really on the other end: trusted proxies and the PROXY protocol.

Chapter question: behind a load balancer every connection comes from the balancer; how
does minigun learn the client's address and whether it spoke https?

Two mechanisms, both only believed from peers the operator lists:

- Scheme headers (``X-Forwarded-Proto: https``) and the forwarder headers
  (``SCRIPT_NAME``), believed from ``forwarded_allow_ips``.
- The PROXY protocol (HAProxy's), a preamble before the first request that names the
  client: version 1 is one text line, version 2 a binary header. Believed from
  ``proxy_allow_ips``; enabled by ``proxy_protocol``.

A peer that is not a TCP address (a Unix socket) is local and therefore trusted, as in
gunicorn.
"""

import functools
import ipaddress
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from minigun.http.errors import (
    ForbiddenProxyRequest,
    InvalidProxyHeader,
    InvalidProxyLine,
)
from minigun.http.unreader import Unreader
from minigun.sock import SocketAddress

# Version 1 (text): "PROXY" SP family SP source SP destination SP sport SP dport CRLF,
# at most 107 bytes with the CRLF.
V1_PREFIX = b"PROXY "
V1_MAX_LINE = 105
V1_FAMILIES = {"TCP4": ipaddress.IPv4Address, "TCP6": ipaddress.IPv6Address}
V1_UNKNOWN = "UNKNOWN"
V1_FIELDS = 6
MAX_PORT = 65535

# Version 2 (binary): 12-byte signature, version/command, family/protocol, length.
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"
V2_HEADER = struct.Struct("!12sBBH")
V2_VERSION = 2
V2_COMMAND_LOCAL = 0
V2_COMMAND_PROXY = 1
#: family/protocol byte -> (name, address block layout)
V2_ADDRESSES = {
    0x11: ("TCP4", struct.Struct("!4s4sHH")),
    0x21: ("TCP6", struct.Struct("!16s16sHH")),
}

#: How many bytes decide which preamble, if any, starts the connection.
SNIFF_SIZE = len(V2_SIGNATURE)


@dataclass(frozen=True)
class ProxyInfo:
    """What a PROXY preamble said about the connection."""

    proxy_protocol: str
    client_addr: str | None
    client_port: int | None
    proxy_addr: str | None
    proxy_port: int | None


def ip_allowed(peer_addr: SocketAddress, allowed: Sequence[str]) -> bool:
    """Whether ``peer_addr`` is trusted by an allow list of addresses and networks.

    ``*`` trusts everyone. A peer that is not an ``(ip, port)`` pair is a Unix socket
    on this machine and is trusted.
    """
    if not isinstance(peer_addr, tuple):
        return True
    return host_allowed(peer_addr[0], tuple(allowed))


@functools.lru_cache(maxsize=1024)
def host_allowed(host: str, allowed: tuple[str, ...]) -> bool:
    """:func:`ip_allowed` for one host, remembered: a worker asks on every request,
    and parsing the addresses was a measurable part of its time (see the
    performance appendix). Every entry was checked when the setting was read
    (:func:`minigun.validators.validate_ip_list`): an address, or a network with no
    host bits set, so ``ip_network`` reads each one without an error."""
    # exercise: trusted-proxy
    if "*" in allowed:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(entry) for entry in allowed)
    # end-exercise: trusted-proxy


def read_proxy_preamble(
    unreader: Unreader, mode: str, peer_addr: SocketAddress, allowed: Sequence[str]
) -> ProxyInfo | None:
    """Read the PROXY preamble that ``mode`` (the ``proxy_protocol`` setting) asks for.

    ``v1`` requires a version 1 line; ``auto`` reads a version 1 line or a version 2
    header if the connection starts with one, and otherwise reads nothing.

    Raises:
        ForbiddenProxyRequest: a preamble from a peer not in ``allowed``.
        InvalidProxyLine, InvalidProxyHeader: a malformed or missing preamble.
    """
    start = sniff(unreader)
    if mode == "auto" and start == V2_SIGNATURE:
        check_allowed(peer_addr, allowed)
        return read_v2(unreader)
    if start.startswith(V1_PREFIX):
        check_allowed(peer_addr, allowed)
        return read_v1(unreader)
    if mode == "v1":
        raise InvalidProxyLine("no PROXY line")
    return None


def sniff(unreader: Unreader) -> bytes:
    """Peek just enough bytes to tell a preamble from an ordinary request line.

    Stops as soon as the bytes can no longer start either preamble, so a short request
    is never kept waiting for bytes that will not come.
    """
    size = 1
    while True:
        start = unreader.peek(size)
        could_be_v1 = V1_PREFIX.startswith(start[: len(V1_PREFIX)])
        could_be_v2 = V2_SIGNATURE.startswith(start)
        if len(start) < size or size >= SNIFF_SIZE or not (could_be_v1 or could_be_v2):
            return start
        size += 1


def check_allowed(peer_addr: SocketAddress, allowed: Sequence[str]) -> None:
    """Refuse a preamble from a peer the operator does not list."""
    if not ip_allowed(peer_addr, allowed):
        raise ForbiddenProxyRequest(str(peer_addr[0]))


def read_v1(unreader: Unreader) -> ProxyInfo:
    """Parse ``PROXY TCP4|TCP6 src dst sport dport`` (or ``PROXY UNKNOWN ...``)."""
    line = unreader.read_line(V1_MAX_LINE, InvalidProxyLine).decode("latin-1")
    fields = line.split(" ")
    family_name = fields[1] if len(fields) > 1 else ""
    if family_name == V1_UNKNOWN:
        return ProxyInfo(V1_UNKNOWN, None, None, None, None)
    if len(fields) != V1_FIELDS or family_name not in V1_FAMILIES:
        raise InvalidProxyLine(line)
    _, _, source, destination, sport, dport = fields
    try:
        source_ip = V1_FAMILIES[family_name](source)
        destination_ip = V1_FAMILIES[family_name](destination)
    except ValueError:
        raise InvalidProxyLine(line) from None
    return ProxyInfo(
        family_name,
        str(source_ip),
        parse_port(sport, line),
        str(destination_ip),
        parse_port(dport, line),
    )


def parse_port(text: str, line: str) -> int:
    """A port is plain decimal digits in 0..65535."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PORT:
        raise InvalidProxyLine(line)
    return int(text)


def read_v2(unreader: Unreader) -> ProxyInfo:
    """Parse the binary version 2 header and its address block."""
    header = read_exactly(unreader, V2_HEADER.size)
    _, version_command, family_protocol, length = V2_HEADER.unpack(header)
    if version_command >> 4 != V2_VERSION:
        raise InvalidProxyHeader(f"version {version_command >> 4}")
    block = read_exactly(unreader, length)
    command = version_command & 0x0F
    if command == V2_COMMAND_LOCAL:
        return ProxyInfo("LOCAL", None, None, None, None)
    if command != V2_COMMAND_PROXY:
        raise InvalidProxyHeader(f"command {command}")
    return parse_v2_addresses(family_protocol, block)


def parse_v2_addresses(family_protocol: int, block: bytes) -> ProxyInfo:
    """Decode the source and destination of a TCP over IPv4 or IPv6 connection."""
    if family_protocol not in V2_ADDRESSES:
        return ProxyInfo("UNSPEC", None, None, None, None)
    name, layout = V2_ADDRESSES[family_protocol]
    if len(block) < layout.size:
        raise InvalidProxyHeader(f"address block too short for {name}")
    source, destination, sport, dport = layout.unpack_from(block)
    return ProxyInfo(
        name,
        str(ipaddress.ip_address(source)),
        sport,
        str(ipaddress.ip_address(destination)),
        dport,
    )


def read_exactly(unreader: Unreader, size: int) -> bytes:
    """Read exactly ``size`` bytes, or raise if the connection ends first."""
    data = bytearray()
    while len(data) < size:
        piece = unreader.read(size - len(data))
        if not piece:
            raise InvalidProxyHeader(f"truncated: {len(data)} of {size} bytes")
        data.extend(piece)
    return bytes(data)
