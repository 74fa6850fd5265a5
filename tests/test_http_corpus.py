"""gunicorn's request corpus, replayed through minigun's parser as gunicorn does it.

Every valid case is fed whole, split after each CRLF, one byte at a time, in random
pieces and as its first byte then the rest; its body is read with ``read(n)``,
``readline(n)``, ``readlines()`` and iteration for n = all, 1 and small random sizes.
Every combination must give the expected requests. Every invalid case, fed the same
ways, must raise the expected error (or a subclass).

The data is in ``tests/data/http-corpus`` (MIT, gunicorn's authors; see its README).
"""

import base64
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from minigun.config import Config
from minigun.http import errors
from minigun.http.body import Body
from minigun.http.exchange import Exchange
from minigun.http.message import ParseRules, Request
from minigun.http.parser import RequestParser

CORPUS = Path(__file__).parent / "data" / "http-corpus" / "gunicorn-requests.json"
CASES: list[dict[str, Any]] = json.loads(CORPUS.read_text())
CASES_BY_NAME = {case["name"]: case for case in CASES}

#: Cases that need a setting minigun deliberately leaves out, with the reason. None do.
SETTINGS_LEFT_OUT: dict[str, str] = {}

#: Cases where minigun deliberately answers differently from gunicorn. Each is still
#: replayed in full, and checked against minigun's own rule instead.
COMPRESSED_CODINGS = (
    "valid/025",
    "valid/025_line",
    "valid/rfc9112_smuggle_gzip_chunked_01",
)
DELIBERATE_DIFFERENCES = {
    "valid/099": (
        "the body is 8599 bytes but Content-Length says 17914: gunicorn hands the "
        "short body over as complete; minigun hands over the bytes that came, then "
        "raises NoMoreData, so no application mistakes half an upload for all of it"
    ),
    "valid/rfc9112_target_authority_connect_01": (
        "gunicorn splits CONNECT example.com:443 with urlsplit, which reads "
        "'example.com' as a scheme and gives the path '443'; minigun recognises the "
        "authority-form (RFC 9112 section 3.2.3) and gives the target itself as path"
    ),
    "valid/009": (
        "Transfer-Encoding: identity beside a Content-Length: gunicorn 26.1 reads the "
        "body by length; minigun refuses it (400), because a Transfer-Encoding whose "
        "last coding is not chunked leaves the length unknown (RFC 9112 section 6.3), "
        "and a proxy that honours the other header sees a different body"
    ),
    "valid/027": (
        "the target /\\xc3\\xa0%20k carries raw UTF-8 bytes: gunicorn 26.1 accepts it, "
        "and PATH_INFO comes out decoded twice; minigun refuses it (400), since a "
        "request target is ASCII (RFC 9112 section 3.2, RFC 3986 section 2)"
    ),
    **{
        name: (
            "a compressed transfer coding before chunked: gunicorn 26.1 hands the "
            "still-compressed bytes to the application as the body; minigun, like "
            "gunicorn 27, answers 501 (RFC 9112 section 7), since it decodes no "
            "compression and the application would take them for the content"
        )
        for name in COMPRESSED_CODINGS
    },
}

#: The valid cases minigun refuses on purpose (see DELIBERATE_DIFFERENCES), with the
#: error it raises instead.
REFUSED_VALID_CASES = {
    "valid/009": errors.InvalidHeader,
    "valid/027": errors.InvalidRequestLine,
    **dict.fromkeys(COMPRESSED_CODINGS, errors.UnsupportedTransferCoding),
}

#: Where the random choices come from, so that a failure can be replayed.
SEED = 9112
SMALL_SIZES = (2, 16)


# -- How the bytes are fed -------------------------------------------------------------


def whole(raw: bytes, rng: random.Random) -> list[bytes]:
    return [raw]


def after_each_crlf(raw: bytes, rng: random.Random) -> list[bytes]:
    pieces = raw.split(b"\r\n")
    return [piece + b"\r\n" for piece in pieces[:-1]] + [pieces[-1]]


def byte_by_byte(raw: bytes, rng: random.Random) -> list[bytes]:
    return [raw[i : i + 1] for i in range(len(raw))]


def random_pieces(raw: bytes, rng: random.Random) -> list[bytes]:
    pieces, start = [], 0
    while start < len(raw):
        end = start + rng.randint(1, 64)
        pieces.append(raw[start:end])
        start = end
    return pieces


def first_byte_then_rest(raw: bytes, rng: random.Random) -> list[bytes]:
    return [raw[:1], raw[1:]]


FEEDS = [whole, after_each_crlf, byte_by_byte, random_pieces, first_byte_then_rest]


# -- How the body is read --------------------------------------------------------------


def size_for(choice: int | None, rng: random.Random) -> int:
    """1 or a fixed size, or (``None``) a new small random size for every call."""
    return choice if choice is not None else rng.randint(*SMALL_SIZES)


def by_read(choice: int | None) -> Callable[[Body, random.Random], bytes]:
    def read(body: Body, rng: random.Random) -> bytes:
        data = b""
        while True:
            size = size_for(choice, rng)
            piece = body.read(size)
            assert len(piece) <= size, f"read({size}) returned {len(piece)} bytes"
            if not piece:
                return data
            data += piece

    return read


def by_readline(choice: int | None) -> Callable[[Body, random.Random], bytes]:
    def readline(body: Body, rng: random.Random) -> bytes:
        data = b""
        while True:
            size = size_for(choice, rng)
            line = body.readline(size)
            assert len(line) <= size, f"readline({size}) returned {len(line)} bytes"
            assert b"\n" not in line[:-1], f"readline returned several lines: {line!r}"
            if not line:
                return data
            data += line

    return readline


def read_all(body: Body, rng: random.Random) -> bytes:
    return body.read()


def readline_all(body: Body, rng: random.Random) -> bytes:
    return b"".join(iter(body.readline, b""))


def readlines(body: Body, rng: random.Random) -> bytes:
    return b"".join(body.readlines())


def iterate(body: Body, rng: random.Random) -> bytes:
    return b"".join(body)


READERS = {
    "read()": read_all,
    "read(1)": by_read(1),
    "read(random)": by_read(None),
    "readline()": readline_all,
    "readline(1)": by_readline(1),
    "readline(random)": by_readline(None),
    "readlines()": readlines,
    "iteration": iterate,
}


# -- Replaying a case ------------------------------------------------------------------


def rules_for(case: dict[str, Any]) -> ParseRules:
    cfg = Config()
    for name, value in case["settings"].items():
        cfg.set(name, value)
    return ParseRules.from_config(cfg)


def raw_bytes(case: dict[str, Any]) -> bytes:
    return base64.b64decode(case["raw_b64"])


def requests_of(case: dict[str, Any], pieces: list[bytes]) -> Iterator[Request]:
    """The connection's requests as a server meets them: each one answered (no
    body) and its unread body read past by the exchange before the next."""
    # The corpus peer is not a TCP address, which minigun (like gunicorn) trusts.
    ex = Exchange(rules_for(case), iter(pieces), None, send=lambda data: None)
    while (req := ex.next_request()) is not None:
        yield req
        ex.start_response(0, False)
        ex.end_response(short=False)


def read_every_body(case: dict[str, Any], pieces: list[bytes]) -> None:
    """Read each request and its whole body, as an application would."""
    for req in requests_of(case, pieces):
        req.body.read()


def parse_all(
    case: dict[str, Any], pieces: list[bytes], reader: Callable[..., bytes], seed: int
) -> Iterator[dict[str, Any]]:
    """Parse every request in ``pieces``, reading each body with ``reader``."""
    rng = random.Random(seed)
    for req in requests_of(case, pieces):
        body = reader(req.body, rng)
        assert req.body.read() == b"", "a read after the end returned bytes"
        assert req.body.read(1) == b"", "a read(1) after the end returned bytes"
        assert req.body.readline() == b"", "a readline after the end returned bytes"
        yield {
            "method": req.method,
            "uri": req.uri,
            "path": req.path,
            "query": req.query,
            "fragment": req.fragment,
            "version": list(req.version),
            "headers": [list(field) for field in req.headers],
            "body_b64": base64.b64encode(body).decode("ascii"),
            "trailers": [list(field) for field in req.trailers],
        }


def expected_requests(case: dict[str, Any]) -> list[dict[str, Any]]:
    expected = [dict(request) for request in case["expect"]]
    if case["name"] == "valid/rfc9112_target_authority_connect_01":
        expected[0]["path"] = expected[0]["uri"]
    return expected


def error_class(name: str) -> type[Exception]:
    cls = getattr(errors, name)
    assert issubclass(cls, errors.ParseException), f"{name} is not a parse error"
    return cls


VALID = [case["name"] for case in CASES if case["kind"] == "valid"]
INVALID = [case["name"] for case in CASES if case["kind"] == "invalid"]


@pytest.fixture(scope="module", autouse=True)
def report_left_out(request: pytest.FixtureRequest) -> Iterator[None]:
    """Print, after the module, how many cases were not replayed as gunicorn's."""
    yield
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.write_line(
            f"\nhttp corpus: {len(CASES)} cases, {len(SETTINGS_LEFT_OUT)} need a "
            f"setting minigun leaves out, {len(DELIBERATE_DIFFERENCES)} deliberately "
            "differ from gunicorn (checked against minigun's rule instead)"
        )


def test_the_corpus_is_complete() -> None:
    assert len(CASES) == 137
    assert len(VALID) + len(INVALID) == 137
    assert set(DELIBERATE_DIFFERENCES) <= set(CASES_BY_NAME)
    assert set(REFUSED_VALID_CASES) <= set(DELIBERATE_DIFFERENCES)
    assert not SETTINGS_LEFT_OUT


ACCEPTED_AS_GUNICORN = [
    name for name in VALID if name != "valid/099" and name not in REFUSED_VALID_CASES
]


@pytest.mark.parametrize("name", ACCEPTED_AS_GUNICORN)
def test_valid_case(name: str) -> None:
    case = CASES_BY_NAME[name]
    raw, expected = raw_bytes(case), expected_requests(case)
    for feed in FEEDS:
        for reader_name, reader in READERS.items():
            pieces = feed(raw, random.Random(SEED))
            got = list(parse_all(case, pieces, reader, SEED))
            how = f"fed {feed.__name__}, body by {reader_name}"
            assert len(got) == len(expected), f"{how}: {len(got)} requests"
            for number, (request, wanted) in enumerate(
                zip(got, expected, strict=True), 1
            ):
                for key, value in wanted.items():
                    assert request[key] == value, f"{how}: request {number} {key}"


def test_valid_099_short_body_is_an_error_after_the_bytes_that_came() -> None:
    case = CASES_BY_NAME["valid/099"]
    raw, expected = raw_bytes(case), case["expect"][0]
    wanted_body = base64.b64decode(expected["body_b64"])
    for feed in FEEDS:
        pieces = feed(raw, random.Random(SEED))
        parser = RequestParser(rules_for(case), iter(pieces), None)
        req = next(parser)
        assert (req.method, req.uri) == (expected["method"], expected["uri"])
        assert [list(field) for field in req.headers] == expected["headers"]
        received = b""
        with pytest.raises(errors.NoMoreData):
            while piece := req.body.read(1000):
                received += piece
        assert wanted_body.startswith(received)


@pytest.mark.parametrize("name", sorted(REFUSED_VALID_CASES))
def test_a_valid_case_minigun_refuses_on_purpose(name: str) -> None:
    case = CASES_BY_NAME[name]
    raw, expected = raw_bytes(case), REFUSED_VALID_CASES[name]
    assert expected.status in (400, 501)  # a bad request, or a coding minigun lacks
    for feed in FEEDS:
        pieces = feed(raw, random.Random(SEED))
        with pytest.raises(expected):
            read_every_body(case, pieces)


@pytest.mark.parametrize("name", INVALID)
def test_invalid_case(name: str) -> None:
    case = CASES_BY_NAME[name]
    raw, expected = raw_bytes(case), error_class(case["expect"]["exception"])
    for feed in FEEDS:
        pieces = feed(raw, random.Random(SEED))
        with pytest.raises(expected):
            read_every_body(case, pieces)
