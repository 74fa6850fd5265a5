"""Errors are data: each parse error knows its status, one function renders them."""

from http import HTTPStatus

import pytest

from minigun.http import errors
from minigun.http.errors import render_error, status_for

STATUSES = [
    (errors.InvalidRequestLine, HTTPStatus.BAD_REQUEST),
    (errors.InvalidRequestMethod, HTTPStatus.BAD_REQUEST),
    (errors.InvalidHTTPVersion, HTTPStatus.BAD_REQUEST),
    (errors.UnsupportedHTTPVersion, HTTPStatus.HTTP_VERSION_NOT_SUPPORTED),
    (errors.InvalidHeader, HTTPStatus.BAD_REQUEST),
    (errors.InvalidHeaderName, HTTPStatus.BAD_REQUEST),
    (errors.ObsoleteFolding, HTTPStatus.BAD_REQUEST),
    (errors.UnsupportedTransferCoding, HTTPStatus.NOT_IMPLEMENTED),
    (errors.InvalidChunkSize, HTTPStatus.BAD_REQUEST),
    (errors.InvalidChunkExtension, HTTPStatus.BAD_REQUEST),
    (errors.ChunkMissingTerminator, HTTPStatus.BAD_REQUEST),
    (errors.NoMoreData, HTTPStatus.BAD_REQUEST),
    (errors.LimitRequestLine, HTTPStatus.REQUEST_URI_TOO_LONG),
    (errors.LimitRequestHeaders, HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE),
    (errors.LimitRequestBody, HTTPStatus.REQUEST_ENTITY_TOO_LARGE),
    (errors.RequestTimeout, HTTPStatus.REQUEST_TIMEOUT),
    (errors.ExpectationFailed, HTTPStatus.EXPECTATION_FAILED),
    (errors.InvalidProxyLine, HTTPStatus.BAD_REQUEST),
    (errors.InvalidProxyHeader, HTTPStatus.BAD_REQUEST),
    (errors.ForbiddenProxyRequest, HTTPStatus.FORBIDDEN),
    (errors.InvalidSchemeHeaders, HTTPStatus.BAD_REQUEST),
    (errors.ConfigurationProblem, HTTPStatus.INTERNAL_SERVER_ERROR),
    (errors.InvalidResponse, HTTPStatus.INTERNAL_SERVER_ERROR),
]


@pytest.mark.parametrize(("cls", "status"), STATUSES)
def test_each_error_knows_its_status(cls: type[errors.HTTPError], status) -> None:
    error = cls("detail")
    assert status_for(error) == status
    assert error.status_code == status.value
    assert error.reason == status.phrase


def test_any_other_exception_is_a_500() -> None:
    assert status_for(ValueError("boom")) == HTTPStatus.INTERNAL_SERVER_ERROR


def test_an_unsupported_version_is_still_an_invalid_version() -> None:
    # gunicorn's corpus names InvalidHTTPVersion; a subclass must satisfy it.
    assert issubclass(errors.UnsupportedHTTPVersion, errors.InvalidHTTPVersion)


@pytest.mark.parametrize(
    "cls",
    [
        errors.NoMoreData,
        errors.InvalidChunkSize,
        errors.ChunkMissingTerminator,
        errors.LimitRequestBody,
        errors.RequestTimeout,
    ],
)
def test_errors_raised_by_body_reads_are_os_errors(cls: type[Exception]) -> None:
    with pytest.raises(OSError, match="detail"):
        raise cls("detail")


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return status_line, headers, body


def test_render_error_answers_with_the_status_and_closes() -> None:
    status_line, headers, body = split_response(
        render_error(errors.LimitRequestLine("5000 > 4094 bytes"))
    )
    assert status_line == "HTTP/1.1 414 Request-URI Too Long"
    assert headers["Connection"] == "close"
    assert headers["Server"].startswith("minigun/")
    assert headers["Date"].endswith("GMT")
    assert int(headers["Content-Length"]) == len(body)
    assert b"5000 > 4094 bytes" in body


def test_render_error_tells_the_client_nothing_about_a_server_failure() -> None:
    status_line, headers, body = split_response(render_error(KeyError("db password")))
    assert status_line == "HTTP/1.1 500 Internal Server Error"
    assert headers["Connection"] == "close"
    assert b"password" not in body
    assert body == b"Internal Server Error\n"


def test_render_error_bounds_what_it_echoes() -> None:
    raw = render_error(errors.InvalidHeader("x" * 10_000))
    assert len(raw) < 1000
