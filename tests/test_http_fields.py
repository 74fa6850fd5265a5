"""Header fields: the line grammar, folding, the header map and the limits."""

import itertools
from collections.abc import Iterable
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors
from minigun.http.fields import FieldRules, Fields, read_fields, read_trailers
from minigun.http.unreader import IterUnreader


def rules(trusted: bool = True, **settings: Any) -> FieldRules:
    cfg = Config()
    for name, value in settings.items():
        cfg.set(name, value)
    return FieldRules.from_config(cfg, trusted)


def block(*lines: str) -> bytes:
    """Field lines and the empty line that ends the block."""
    return "".join(f"{line}\r\n" for line in [*lines, ""]).encode("latin-1")


def read(raw: bytes | Iterable[bytes], trusted: bool = True, **settings: Any) -> Fields:
    pieces = [raw] if isinstance(raw, bytes) else raw
    return read_fields(IterUnreader(pieces), rules(trusted, **settings))


def test_fields_keep_order_and_duplicates_with_names_upper_cased() -> None:
    assert read(block("Host: x", "accept: a", "X-Y:  \tv w\t ", "Accept: b")) == [
        ("HOST", "x"),
        ("ACCEPT", "a"),
        ("X-Y", "v w"),
        ("ACCEPT", "b"),
    ]


def test_the_block_ends_at_the_empty_line() -> None:
    unreader = IterUnreader([block("A: 1") + b"body"])
    assert read_fields(unreader, rules()) == [("A", "1")]
    assert unreader.read() == b"body"


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("Name : v", errors.InvalidHeaderName),
        ("Na me: v", errors.InvalidHeaderName),
        ("Name\x01: v", errors.InvalidHeaderName),
        ("Nam\xe9: v", errors.InvalidHeaderName),
        (": v", errors.InvalidHeader),
        ("no colon", errors.InvalidHeader),
        ("Name: a\x00b", errors.InvalidHeader),
        ("Name: a\nb", errors.InvalidHeader),
        ("Name: a\rb", errors.InvalidHeader),
        ("Name: a\x1bb", errors.InvalidHeader),
        ("Name: a\x7fb", errors.InvalidHeader),
    ],
)
def test_malformed_field_lines(line: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        read(block("Host: x", line))


def test_obs_text_in_values_is_kept_as_latin_1() -> None:
    assert read(b"X: caf\xc3\xa9\r\n\r\n") == [("X", "caf\xc3\xa9")]


def test_obsolete_folding_is_refused_unless_permitted() -> None:
    raw = block("Host: x", "Long: one", " two", "\tthree")
    with pytest.raises(errors.ObsoleteFolding):
        read(raw)
    assert read(raw, permit_obsolete_folding=True)[1] == ("LONG", "one two three")


def test_a_continuation_line_needs_a_field_to_continue() -> None:
    with pytest.raises(errors.InvalidHeader):
        read(block(" orphan"), permit_obsolete_folding=True)


def test_strip_header_spaces_accepts_space_before_the_colon() -> None:
    assert read(block("Host : x"), strip_header_spaces=True) == [("HOST", "x")]


@pytest.mark.parametrize(
    ("header_map", "kept"),
    [("drop", []), ("dangerous", [("X_ID", "1")])],
)
def test_header_map_for_names_with_underscores(header_map: str, kept: list) -> None:
    assert read(block("X_Id: 1"), header_map=header_map) == kept


def test_header_map_refuse() -> None:
    with pytest.raises(errors.InvalidHeaderName):
        read(block("X_Id: 1"), header_map="refuse")


def test_forwarder_headers_are_kept_only_from_trusted_peers() -> None:
    raw = block("Script_Name: /app")
    assert read(raw, trusted=True) == [("SCRIPT_NAME", "/app")]
    assert read(raw, trusted=False) == []


def test_too_many_fields_are_refused_while_reading() -> None:
    with pytest.raises(errors.LimitRequestHeaders) as caught:
        read(itertools.repeat(b"X: y\r\n"), limit_request_fields=5)
    assert caught.value.status_code == 431


def test_a_too_long_field_is_refused_while_reading() -> None:
    endless = itertools.chain([b"X: "], itertools.repeat(b"y" * 50))
    with pytest.raises(errors.LimitRequestHeaders):
        read(endless, limit_request_field_size=200)


def test_the_field_size_counts_the_crlf_and_every_folded_line() -> None:
    assert read(block("X: 12345"), limit_request_field_size=10) == [("X", "12345")]
    with pytest.raises(errors.LimitRequestHeaders):
        read(block("X: 123456"), limit_request_field_size=10)
    with pytest.raises(errors.LimitRequestHeaders):
        read(
            block("X: 1", " 2", " 3"),
            limit_request_field_size=12,
            permit_obsolete_folding=True,
        )


def test_zero_limits_mean_the_defaults() -> None:
    zero = rules(limit_request_fields=0, limit_request_field_size=0)
    assert (zero.limit_request_fields, zero.limit_request_field_size) == (32768, 8190)


@pytest.mark.parametrize("name", ["Content-Length", "Transfer-Encoding", "Host"])
def test_framing_and_routing_fields_are_refused_as_trailers(name: str) -> None:
    with pytest.raises(errors.InvalidHeaderName):
        read_trailers(IterUnreader([block(f"{name}: 1")]), rules())


def test_other_trailers_are_read() -> None:
    raw = block("X-Checksum: abc", "Content-Type: text/plain")
    assert read_trailers(IterUnreader([raw]), rules()) == [
        ("X-CHECKSUM", "abc"),
        ("CONTENT-TYPE", "text/plain"),
    ]
