"""Exercise 24: which peers may speak for the client (``forwarded_allow_ips``)."""

from pathlib import Path

import pytest

import minigun
from minigun.http.proxy import host_allowed, ip_allowed

NGINX_SUBNET = ("10.0.0.0/8",)
LOOPBACK = ("127.0.0.1", "::1")


def test_minigun_is_the_work_copy(work_copy: Path):
    """Guards the set-up: these tests must exercise the work copy, not the reference."""
    where = Path(minigun.__file__).resolve()
    assert where.is_relative_to(work_copy.resolve()), (
        f"import minigun loaded {where}, expected the work copy under {work_copy}"
    )


def test_a_star_trusts_every_peer():
    assert host_allowed("203.0.113.9", ("*",)), "'*' must trust every peer"
    assert host_allowed("2001:db8::1", ("10.0.0.1", "*")), (
        "'*' anywhere in the list must trust every peer"
    )


def test_a_listed_address_is_trusted_and_its_neighbour_is_not():
    assert host_allowed("127.0.0.1", LOOPBACK), "127.0.0.1 is listed: trust it"
    assert not host_allowed("127.0.0.2", LOOPBACK), (
        "127.0.0.2 is not listed: a neighbour of a trusted address is a stranger"
    )


@pytest.mark.parametrize("host", ["10.0.0.1", "10.1.2.3", "10.255.255.254"])
def test_an_address_inside_a_listed_network_is_trusted(host: str):
    assert host_allowed(host, NGINX_SUBNET), (
        f"{host} is inside 10.0.0.0/8: an entry may be a network, not only an address"
    )


def test_an_address_outside_the_network_is_not_trusted():
    assert not host_allowed("11.0.0.1", NGINX_SUBNET), "11.0.0.1 is outside 10.0.0.0/8"


def test_a_list_may_mix_addresses_and_networks():
    """The list as the setting hands it over: addresses and networks side by side."""
    mixed = ("192.168.1.5", "10.0.0.0/8")
    assert host_allowed("192.168.1.5", mixed), "192.168.1.5 is listed as an address"
    assert host_allowed("10.9.8.7", mixed), "10.9.8.7 is inside the listed 10.0.0.0/8"
    assert not host_allowed("192.168.1.6", mixed), "192.168.1.6 is in neither entry"


def test_addresses_are_compared_as_addresses_not_as_text():
    """One IPv6 address has many spellings; the peer's may not be the list's."""
    assert host_allowed("0:0:0:0:0:0:0:1", LOOPBACK), (
        "0:0:0:0:0:0:0:1 is ::1: compare ip_address values, not strings"
    )
    assert host_allowed("fd00::5", ("fd00::/8",)), "fd00::5 is inside fd00::/8"


def test_an_address_of_the_other_family_is_not_trusted():
    assert not host_allowed("::1", ("127.0.0.1",)), "::1 is not 127.0.0.1"


def test_a_peer_that_is_no_address_is_refused_without_an_error():
    """A name is not an address: refuse it, and do not raise (the request goes on)."""
    assert not host_allowed("localhost", LOOPBACK), "'localhost' is not an address"


def test_a_request_asks_about_its_peers_address_whatever_the_port():
    """What each request asks as it is built (``ip_allowed``, with the peer's
    ``(ip, port)``): only the proxy's ``X-Forwarded-Proto`` may set the scheme."""
    allowed = ["10.0.0.0/8"]
    assert ip_allowed(("10.0.0.7", 40000), allowed), (
        "the proxy at 10.0.0.7, port 40000, is inside 10.0.0.0/8: trusted"
    )
    assert not ip_allowed(("198.51.100.4", 40000), allowed), (
        "198.51.100.4 is not a trusted proxy: its X-Forwarded-Proto must be ignored"
    )
