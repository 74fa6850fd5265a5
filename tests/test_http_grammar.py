"""The HTTP grammar, written once: what a token, a host, a field value and a length
are."""

import pytest

from minigun.http.grammar import (
    AUTHORITY_RE,
    FIELD_VALUE_FORBIDDEN_RE,
    FIELD_VALUE_FORBIDDEN_TEXT_RE,
    HOST_RE,
    TOKEN_RE,
    TOKEN_TEXT_RE,
    is_content_length,
)


@pytest.mark.parametrize("token", ["GET", "X-Custom_1", "!#$%&'*+-.^_`|~"])
def test_a_token_is_the_same_in_bytes_and_in_text(token: str) -> None:
    assert TOKEN_RE.fullmatch(token.encode())
    assert TOKEN_TEXT_RE.fullmatch(token)


@pytest.mark.parametrize("not_token", ["", "a b", "a:b", "é", "a\r", '"x"', "(x)"])
def test_what_is_not_a_token_is_refused_on_both_sides(not_token: str) -> None:
    assert not TOKEN_RE.fullmatch(not_token.encode("utf-8"))
    assert not TOKEN_TEXT_RE.fullmatch(not_token)


def test_a_host_and_an_authority_share_the_host_grammar() -> None:
    match = HOST_RE.fullmatch("[::1]:8080")
    assert match is not None and match.groups() == ("[::1]", "8080")
    assert AUTHORITY_RE.fullmatch("user:pw@[::1]:8080")
    assert not HOST_RE.fullmatch("user@example.com")  # no userinfo in a Host
    assert not AUTHORITY_RE.fullmatch("exa mple.com")


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("0", True),
        ("42", True),
        ("", False),
        ("+5", False),
        ("5_0", False),
        ("\u0663", False),
        (" 5", False),
        ("-1", False),
    ],
)
def test_a_content_length_is_ascii_digits_only(value: str, valid: bool) -> None:
    assert is_content_length(value) is valid


def test_a_field_value_refuses_every_control_but_htab_as_bytes_and_as_text():
    """RFC 9110 section 5.5, one rule for the request's bytes and the response's
    strings: CTL (%x00-1F, %x7F) but HTAB is refused, everything else allowed."""
    for code in range(256):
        forbidden = (code < 0x20 and code != 0x09) or code == 0x7F
        as_bytes = FIELD_VALUE_FORBIDDEN_RE.search(bytes([code])) is not None
        as_text = FIELD_VALUE_FORBIDDEN_TEXT_RE.search(chr(code)) is not None
        assert as_bytes == as_text == forbidden, hex(code)
