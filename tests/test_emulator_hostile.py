"""The emulator under hostile input, over raw sockets: AWS-shaped errors, bounded, no hang.

Every test talks to a real emulator on loopback. Most use the shared one; those that
need a short socket timeout or a small connection cap start their own. After each
hostile exchange the emulator must still answer a normal signed call.
"""

from __future__ import annotations

import datetime
import http.client
import json
import resource
import select
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import botocore.auth
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from emulator_helpers import PLAYERS, raw_request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gamelift_emulator import Emulator, EmulatorControl
from gamelift_emulator.launcher import launched
from testkit.seeding import seed_configuration

ROOT = Path(__file__).resolve().parent.parent
JSON_TYPE = "application/x-amz-json-1.1"
DESCRIBE = "GameLift.DescribeMatchmaking"


# ---- a raw HTTP client ------------------------------------------------------------


@dataclass
class Answer:
    """One HTTP answer as read off the socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


def read_answer(reader: BinaryIO) -> Answer:
    """Read one HTTP/1.1 answer (status line, headers, Content-Length body)."""
    status_line = reader.readline()
    if not status_line:
        raise ConnectionError("the emulator closed the connection without answering")
    headers: dict[str, str] = {}
    while (line := reader.readline()) not in (b"\r\n", b"\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = reader.read(int(headers.get("content-length", "0")))
    return Answer(int(status_line.split()[1]), headers, body)


class Raw:
    """A raw loopback TCP connection to an emulator (bounded by a socket timeout)."""

    def __init__(self, port: int, timeout: float = 10.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        """Send bytes as they are."""
        self.sock.sendall(data)

    def answer(self) -> Answer:
        """Wait for the next answer."""
        return read_answer(self.reader)

    def closed_by_server(self) -> bool:
        """Wait until the server closes (EOF or reset); False if it sends data instead."""
        try:
            return self.reader.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        """Close the client side."""
        self.reader.close()
        self.sock.close()


@pytest.fixture
def connect() -> Iterator[Callable[..., Raw]]:
    """Factory of ``Raw`` connections, all closed after the test."""
    opened: list[Raw] = []

    def make(port: int, timeout: float = 10.0) -> Raw:
        connection = Raw(port, timeout)
        opened.append(connection)
        return connection

    yield make
    for connection in opened:
        connection.close()


def signed_request(
    port: int,
    body: bytes,
    target: str | None = DESCRIBE,
    *,
    access_key: str = "test",
    secret_key: str = "test",
    extra_headers: dict[str, str] | None = None,
    content_length: str | None = None,
) -> bytes:
    """A whole HTTP request as an SDK sends it, signed with botocore's SigV4."""
    host = f"127.0.0.1:{port}"
    headers = {"Content-Type": JSON_TYPE, "Host": host, **(extra_headers or {})}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=f"http://{host}/", data=body, headers=headers)
    SigV4Auth(Credentials(access_key, secret_key), "gamelift", "us-east-1").add_auth(request)
    length = str(len(body)) if content_length is None else content_length
    lines = ["POST / HTTP/1.1", *(f"{k}: {v}" for k, v in request.headers.items())]
    if length:
        lines.append(f"Content-Length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def exchange(port: int, data: bytes) -> Answer:
    """Send one request on a fresh connection and read its answer."""
    connection = Raw(port)
    try:
        connection.send(data)
        return connection.answer()
    finally:
        connection.close()


def aws_error(answer: Answer, status: int, code: str | None = None) -> dict[str, str]:
    """Assert ``answer`` is an AWS-shaped error; return its payload."""
    assert answer.status == status, answer
    assert answer.headers["content-type"] == JSON_TYPE
    assert len(answer.headers["x-amzn-requestid"]) == 36
    payload: dict[str, str] = answer.json()
    # AWS answers an unknown operation with the bare {"__type": "UnknownOperationException"}.
    bare = payload.get("__type") == "UnknownOperationException"
    assert set(payload) == ({"__type"} if bare else {"__type", "message"}), payload
    assert all(isinstance(v, str) and v for v in payload.values())
    if code is not None:
        assert payload["__type"] == code, payload
    return payload


def assert_serving(emulator: Emulator) -> None:
    """A normal signed call still succeeds."""
    status, _, body = raw_request(emulator.endpoint_url, b'{"TicketIds": ["x"]}')
    assert (status, body) == (200, {"TicketList": []})


def nested(depth: int) -> bytes:
    """A JSON list nested ``depth`` deep."""
    return b"[" * depth + b"]" * depth


# ---- bodies -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"TicketIds": [',
        b'{"TicketIds": ["a"]',
        b'{"TicketIds": ["a"]} trailing',
        b"{'TicketIds': ['a']}",
        b'{"TicketIds": ["a",]}',
        b"\x00\x01\x02",
        b"nul",
        b'{"TicketIds": ["a"]}\x00',
    ],
)
def test_malformed_json_is_a_serialization_exception(emulator: Emulator, body: bytes) -> None:
    """Bodies that are not JSON answer 400 SerializationException."""
    aws_error(
        exchange(emulator.port, signed_request(emulator.port, body)), 400, "SerializationException"
    )
    assert_serving(emulator)


@pytest.mark.parametrize("body", [b"[]", b'"TicketIds"', b"1", b"null", b"true", b'["a"]'])
def test_json_that_is_not_an_object_is_refused(emulator: Emulator, body: bytes) -> None:
    """A JSON value that is not an object answers 400 SerializationException."""
    aws_error(
        exchange(emulator.port, signed_request(emulator.port, body)), 400, "SerializationException"
    )


@pytest.mark.parametrize(
    ("target", "params"),
    [
        (DESCRIBE, {"TicketIds": "abc"}),
        (DESCRIBE, {"TicketIds": [1]}),
        (DESCRIBE, {"TicketIds": [["a"]]}),
        (DESCRIBE, {"TicketIds": {"a": "b"}}),
        (DESCRIBE, {"TicketIds": ["a", None]}),
        ("GameLift.StopMatchmaking", {"TicketId": 7}),
        ("GameLift.StopMatchmaking", {"TicketId": {"S": "a"}}),
        ("GameLift.DescribeGameSessions", {"FleetId": "fleet-1", "Limit": "5"}),
        ("GameLift.DescribeGameSessions", {"FleetId": "fleet-1", "Limit": True}),
        ("GameLift.DescribeGameSessions", {"FleetId": "fleet-1", "Limit": 1.5}),
        ("GameLift.DescribeGameSessions", {"FleetId": "fleet-1", "Limit": 10**30}),
        ("GameLift.DescribeGameSessions", {"FleetId": "fleet-1", "Limit": -(2**63)}),
        ("GameLift.DescribeGameSessions", {"FleetId": ["fleet-1"]}),
        (
            "GameLift.StartMatchBackfill",
            {"ConfigurationName": "cfg", "Players": [{"PlayerAttributes": "x"}]},
        ),
        (
            "GameLift.StartMatchBackfill",
            {
                "ConfigurationName": "cfg",
                "Players": [{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": "12"}}}],
            },
        ),
        (
            "GameLift.StartMatchBackfill",
            {"ConfigurationName": "cfg", "Players": [{"PlayerId": "p", "LatencyInMs": [1]}]},
        ),
        (
            "GameLift.StartMatchBackfill",
            {
                "ConfigurationName": "cfg",
                "Players": [{"PlayerId": "p", "LatencyInMs": {"r": 1e40}}],
            },
        ),
    ],
)
def test_wrong_member_types_are_serialization_exceptions(
    emulator: Emulator, target: str, params: dict[str, Any]
) -> None:
    """Members of the wrong JSON type or out of their number type's range answer 400."""
    request = signed_request(emulator.port, json.dumps(params).encode(), target)
    aws_error(exchange(emulator.port, request), 400, "SerializationException")
    assert_serving(emulator)


def test_integral_float_for_an_integer_is_accepted_as_aws_does(
    emulator: Emulator, control: EmulatorControl
) -> None:
    """``"Limit": 5.0`` is read as the integer 5, as AWS's deserializer does."""
    fleet_id = control.create_fleet()["fleet_id"]
    body = json.dumps({"FleetId": fleet_id, "Limit": 5.0}).encode()
    answer = exchange(
        emulator.port, signed_request(emulator.port, body, "GameLift.DescribeGameSessions")
    )
    assert answer.status == 200, answer
    assert answer.json()["GameSessions"] == []


@pytest.mark.parametrize(
    "body",
    [
        b'{"FleetId": "fleet-1", "Limit": NaN}',
        b'{"FleetId": "fleet-1", "Limit": Infinity}',
        b'{"FleetId": "fleet-1", "Limit": -Infinity}',
        b'{"FleetId": "fleet-1", "Limit": 1e400}',
        b'{"FleetId": "fleet-1", "Limit": ' + b"9" * 5000 + b"}",
        b'{"ConfigurationName": "cfg", "Players": [{"PlayerId": "p", '
        b'"PlayerAttributes": {"skill": {"N": NaN}}}]}',
    ],
)
def test_nan_infinity_and_huge_numbers_are_refused(emulator: Emulator, body: bytes) -> None:
    """NaN/Infinity literals and numbers no double or int holds answer 400, not 500."""
    target = (
        "GameLift.StartMatchBackfill" if b"Players" in body else "GameLift.DescribeGameSessions"
    )
    answer = exchange(emulator.port, signed_request(emulator.port, body, target))
    aws_error(answer, 400, "SerializationException")


@pytest.mark.parametrize(
    "body",
    [
        nested(100_000),
        b'{"TicketIds": ' + nested(50_000) + b"}",
        b'{"Unknown": ' + nested(900) + b', "TicketIds": ["a"]}',
        json.dumps({"TicketIds": [json.loads(nested(900))] * 11}).encode(),
        b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    ],
    ids=["list-100k", "member-50k", "unknown-900", "rendered-900", "object-20k"],
)
def test_deeply_nested_json_does_not_blow_the_stack(emulator: Emulator, body: bytes) -> None:
    """JSON nested past the recursion limit (or nearly) answers 400, never 500."""
    answer = exchange(emulator.port, signed_request(emulator.port, body))
    assert answer.status in (200, 400), answer
    if answer.status == 400:
        aws_error(answer, 400)
    assert_serving(emulator)


@pytest.mark.parametrize(
    "ticket_id",
    [
        "",
        "\u0000",
        "\ud800",
        "\udfff\ud800",
        "🎮",
        "\u202eabc",
        "\uff41\uff42\uff43",
        "a\u0301",
        "\uffff",
    ],
)
def test_unicode_edge_cases_answer_cleanly(emulator: Emulator, ticket_id: str) -> None:
    """NUL, lone surrogates, astral and bidi characters answer 200 or an AWS-shaped 400."""
    for target, params in [
        (DESCRIBE, {"TicketIds": [ticket_id]}),
        ("GameLift.StopMatchmaking", {"TicketId": ticket_id}),
    ]:
        body = json.dumps(params).encode()  # \u escapes: lone surrogates survive as text
        answer = exchange(emulator.port, signed_request(emulator.port, body, target))
        if answer.status != 200:
            code = aws_error(answer, 400)["__type"]
            assert code in {
                "InvalidRequestException",
                "SerializationException",
                "NotFoundException",
            }


@pytest.mark.parametrize(
    "body",
    [
        b'{"TicketIds": ["\xff\xfe"]}',
        b'{"TicketIds": ["\xc3\x28"]}',
        b'{"TicketIds": ["\xed\xa0\x80"]}',  # a surrogate encoded as UTF-8 (CESU)
        b'{"TicketIds": ["\xf8\x88\x80\x80\x80"]}',
        b"\xef\xbb\xbf{}",  # a byte order mark
        '{"TicketIds": ["a"]}'.encode("utf-16"),
    ],
)
def test_invalid_utf8_is_a_serialization_exception(emulator: Emulator, body: bytes) -> None:
    """A body that is not UTF-8 answers 400 SerializationException."""
    aws_error(
        exchange(emulator.port, signed_request(emulator.port, body)), 400, "SerializationException"
    )


# ---- authentication ---------------------------------------------------------------


def test_wrong_secret_fails_with_a_clear_auth_error(emulator: Emulator) -> None:
    """A request signed with the wrong secret answers InvalidSignatureException naming it."""
    request = signed_request(emulator.port, b'{"TicketIds": ["a"]}', secret_key="wrong")
    payload = aws_error(exchange(emulator.port, request), 400, "InvalidSignatureException")
    assert payload["message"].startswith("The request signature we calculated does not match")


def test_unknown_access_key_fails_with_a_clear_auth_error(emulator: Emulator) -> None:
    """An unknown access key answers UnrecognizedClientException."""
    request = signed_request(emulator.port, b"{}", access_key="AKIDNOBODY")
    aws_error(exchange(emulator.port, request), 400, "UnrecognizedClientException")


def test_expired_signature_is_refused(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """A correctly signed request dated an hour ago answers InvalidSignatureException."""
    an_hour_ago = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: an_hour_ago)
    request = signed_request(emulator.port, b'{"TicketIds": ["a"]}')
    payload = aws_error(exchange(emulator.port, request), 400, "InvalidSignatureException")
    assert "expired" in payload["message"]


def test_a_signed_body_cannot_be_swapped(emulator: Emulator) -> None:
    """A valid signature over another body answers InvalidSignatureException."""
    request = signed_request(emulator.port, b'{"TicketIds": ["a"]}')
    tampered = request.replace(b'["a"]', b'["b"]')
    aws_error(exchange(emulator.port, tampered), 400, "InvalidSignatureException")


def _with_header(request: bytes, name: str, value: str | None) -> bytes:
    """``request`` with header ``name`` replaced by ``value`` (removed if None)."""
    head, _, body = request.partition(b"\r\n\r\n")
    lines = [
        line
        for line in head.split(b"\r\n")
        if not line.lower().startswith(name.lower().encode() + b":")
    ]
    if value is not None:
        lines.insert(1, f"{name}: {value}".encode("latin-1"))
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


@pytest.mark.parametrize(
    ("value", "status", "code"),
    [
        (None, 403, "MissingAuthenticationTokenException"),
        ("", 403, "MissingAuthenticationTokenException"),
        ("Bearer abc", 400, "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256", 400, "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 Credential=test, SignedHeaders=host, Signature=00", 400, None),
        (
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/gamelift/aws4_request, "
            "SignedHeaders=host, Signature=zz",
            400,
            "IncompleteSignatureException",
        ),
        (
            "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/gamelift/aws4_request, "
            "SignedHeaders=;;;, Signature=00",
            400,
            None,
        ),
        ("\xff\xfe" * 100, 400, "IncompleteSignatureException"),
        ("AWS4-HMAC-SHA256 " + "a" * 60_000, 400, "IncompleteSignatureException"),
    ],
)
def test_missing_or_garbled_authorization_is_refused(
    emulator: Emulator, value: str | None, status: int, code: str | None
) -> None:
    """No or a garbled Authorization header answers an AWS auth error, not a 500."""
    request = _with_header(signed_request(emulator.port, b"{}"), "Authorization", value)
    aws_error(exchange(emulator.port, request), status, code)
    assert_serving(emulator)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Amz-Date", None),
        ("X-Amz-Date", "yesterday"),
        ("X-Amz-Date", "20240101"),
        ("X-Amz-Date", "00000000T000000Z"),
        ("X-Amz-Date", "99999999T999999Z"),
        ("Host", "["),
        ("Host", "a:b:c]"),
        ("Host", "\xff" * 40),
        ("Host", None),
    ],
)
def test_garbage_signed_headers_are_auth_errors(
    emulator: Emulator, name: str, value: str | None
) -> None:
    """Garbage in the headers the signature covers answers an AWS-shaped 400."""
    request = _with_header(signed_request(emulator.port, b"{}"), name, value)
    code = aws_error(exchange(emulator.port, request), 400)["__type"]
    assert code in {"IncompleteSignatureException", "InvalidSignatureException"}


# ---- HTTP framing -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"HELLO\r\n\r\n", 400),
        (b"POST / HTTP/1.1x\r\n\r\n", 400),
        (b"POST / HTTP/2.0\r\n\r\n", 505),
        (b"POST /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414),
        (b"POST / HTTP/1.1\r\nX-Big: " + b"a" * 70_000 + b"\r\n\r\n", 431),
        (b"POST / HTTP/1.1\r\n" + b"X-H: 1\r\n" * 101 + b"\r\n", 431),
        # llhttp (uvicorn's parser) refuses these three while parsing: 400, not 415.
        (b"BREW / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 1_0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}", 400),
        (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nContent-Length: 0\r\nNo colon here\r\n\r\n", 400),
        (b"POST\x00 /\x00 HTTP/1.1\r\n\r\n", 400),
    ],
)
def test_malformed_http_gets_aws_shaped_errors(
    emulator: Emulator, data: bytes, status: int
) -> None:
    """Broken request lines, versions, headers and lengths answer AWS-shaped JSON errors."""
    aws_error(exchange(emulator.port, data), status)
    assert_serving(emulator)


def test_missing_content_type_and_target_are_named(emulator: Emulator) -> None:
    """No Content-Type answers 415 naming it; no X-Amz-Target, 400 UnknownOperation as AWS."""
    no_type = _with_header(signed_request(emulator.port, b"{}"), "Content-Type", None)
    aws_error(exchange(emulator.port, no_type), 415, "UnsupportedProtocolException")
    no_target = signed_request(emulator.port, b"{}", target=None)
    aws_error(exchange(emulator.port, no_target), 400, "UnknownOperationException")


def test_oversize_body_gets_413_and_the_connection_stays_usable(
    emulator: Emulator, connect: Callable[..., Raw]
) -> None:
    """A body over the cap answers 413, is drained, and the keep-alive connection goes on."""
    connection = connect(emulator.port)
    big = b'{"TicketIds": ["' + b"a" * (1024 * 1024) + b'"]}'
    connection.send(signed_request(emulator.port, big))
    aws_error(connection.answer(), 413, "RequestEntityTooLargeException")
    connection.send(signed_request(emulator.port, b'{"TicketIds": ["a"]}'))
    assert connection.answer().status == 200


def test_huge_declared_length_gets_413_and_a_close(
    emulator: Emulator, connect: Callable[..., Raw]
) -> None:
    """A Content-Length of a terabyte answers 413 (40 digits, 400) at once and closes."""
    # 40 digits overflow llhttp's 64-bit length: refused while parsing, as a bad request.
    for length, status in (("1000000000000", 413), ("9" * 40, 400)):
        connection = connect(emulator.port)
        connection.send(signed_request(emulator.port, b"", content_length=length))
        answer = connection.answer()
        aws_error(answer, status)
        assert answer.headers["connection"] == "close"
        assert connection.closed_by_server()
    assert_serving(emulator)


def test_content_length_shorter_than_the_body(
    emulator: Emulator, connect: Callable[..., Raw]
) -> None:
    """A body longer than declared: the declared part is the body; the rest a bad request."""
    connection = connect(emulator.port)
    body = b'{"TicketIds": ["a"]}'
    connection.send(signed_request(emulator.port, body, content_length="5") + b"\r\n")
    aws_error(connection.answer(), 400, "InvalidSignatureException")  # signed the whole body
    aws_error(connection.answer(), 400)  # the rest, read as a request line
    assert connection.closed_by_server()


def test_no_content_length_means_an_empty_body(
    emulator: Emulator, connect: Callable[..., Raw]
) -> None:
    """Without Content-Length the body is empty; the bytes after it are a bad request."""
    connection = connect(emulator.port)
    connection.send(signed_request(emulator.port, b"", content_length="") + b"junk\r\n")
    aws_error(connection.answer(), 400, "InvalidRequestException")  # TicketIds is required
    aws_error(connection.answer(), 400)
    assert connection.closed_by_server()


def _chunked(request: bytes, chunks: list[bytes]) -> bytes:
    head = _with_header(request, "Content-Length", None).partition(b"\r\n\r\n")[0]
    head = _with_header(head + b"\r\n\r\n", "Transfer-Encoding", "chunked")
    encoded = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks)
    return head + encoded + b"0\r\n\r\n"


def test_chunked_body_is_decoded(emulator: Emulator, connect: Callable[..., Raw]) -> None:
    """A chunked body (as some SDKs stream) is decoded and answered on a kept connection."""
    connection = connect(emulator.port)
    body = b'{"TicketIds": ["a"]}'
    for _ in range(2):
        connection.send(_chunked(signed_request(emulator.port, body), [body[:7], body[7:]]))
        answer = connection.answer()
        assert (answer.status, answer.json()) == (200, {"TicketList": []})


def test_chunked_body_over_the_cap_and_bad_chunks(emulator: Emulator) -> None:
    """A chunked body over the cap answers 413; a bad chunk size answers 400."""
    request = signed_request(emulator.port, b"{}")
    too_big = _chunked(request, [b" " * 600_000, b" " * 600_000])
    aws_error(exchange(emulator.port, too_big), 413, "RequestEntityTooLargeException")
    bad = _chunked(request, [b"{}"]).replace(b"\r\n2\r\n", b"\r\nzz\r\n")
    aws_error(exchange(emulator.port, bad), 400)
    assert_serving(emulator)


def test_pipelined_requests_are_answered_in_order(
    emulator: Emulator, connect: Callable[..., Raw]
) -> None:
    """Requests pipelined on one connection, errors among them, are answered in order."""
    connection = connect(emulator.port)
    bodies = [b'{"TicketIds": ["a"]}', b'{"TicketIds": "a"}', b"{", b'{"TicketIds": ["b"]}']
    connection.send(b"".join(signed_request(emulator.port, body) for body in bodies))
    answers = [connection.answer() for _ in bodies]
    assert [a.status for a in answers] == [200, 400, 400, 200]
    assert [a.json().get("__type") for a in answers[1:3]] == ["SerializationException"] * 2
    assert len({a.headers["x-amzn-requestid"] for a in answers}) == len(bodies)


# ---- slow clients and many connections --------------------------------------------


def test_stalled_client_does_not_hang_others_and_is_closed_after_the_timeout(
    make_emulator: Callable[..., Emulator], connect: Callable[..., Raw]
) -> None:
    """A client that stalls mid-body is answered 408 after the socket timeout; others go on."""
    emulator = make_emulator(socket_timeout=1.0)
    stalled = connect(emulator.port)
    started = time.monotonic()
    stalled.send(signed_request(emulator.port, b"", content_length="100") + b'{"Tick')
    for _ in range(20):
        assert_serving(emulator)
    aws_error(stalled.answer(), 408, "RequestTimeoutException")
    # Not before the timeout (a lower bound: a slower machine only makes it later).
    assert time.monotonic() - started >= 0.9
    assert stalled.closed_by_server()


def test_client_stalling_before_the_request_is_closed_silently(
    make_emulator: Callable[..., Emulator], connect: Callable[..., Raw]
) -> None:
    """An idle connection that never sends a request is closed after the timeout."""
    emulator = make_emulator(socket_timeout=0.5)
    idle = connect(emulator.port)
    started = time.monotonic()
    assert idle.closed_by_server()
    assert time.monotonic() - started >= 0.4  # not before the timeout


def test_trickling_client_is_cut_off_at_the_deadline(
    make_emulator: Callable[..., Emulator], connect: Callable[..., Raw]
) -> None:
    """A client sending one header byte every 50 ms (slowloris) is answered 408 before it
    could finish its request: the deadline is per request, not per byte."""
    emulator = make_emulator(socket_timeout=0.5)
    slow = connect(emulator.port)
    request = signed_request(emulator.port, b'{"TicketIds": ["a"]}')
    sent = 0
    for byte in request:
        readable, _, _ = select.select([slow.sock], [], [], 0.05)  # the pace; and the event
        if readable:
            break
        try:
            slow.send(bytes([byte]))
        except OSError:
            break
        sent += 1
    assert sent < len(request)  # cut off mid-request, however fast this machine is
    aws_error(slow.answer(), 408, "RequestTimeoutException")
    assert_serving(emulator)


SLOW_CONNECTIONS = 1000


@pytest.fixture
def many_descriptors() -> Iterator[None]:
    """Room for SLOW_CONNECTIONS sockets on both ends, in this one process, and the rest
    the test suite holds open (the soft fd limit is often 1,024; the hard one rarely is)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 2 * SLOW_CONNECTIONS + 512
    if hard != resource.RLIM_INFINITY and hard < wanted:
        pytest.skip(f"the hard limit of open files ({hard}) is below {wanted}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, wanted), hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_a_thousand_slow_connections_do_not_starve_a_real_client(
    many_descriptors: None,
    make_emulator: Callable[..., Emulator],
    make_gamelift: Callable[..., Any],
    connect: Callable[..., Raw],
) -> None:
    """With 1,000 idle or half-sent connections open, boto3 is answered and no thread is added."""
    emulator = make_emulator()
    threads_before = threading.active_count()
    half = signed_request(emulator.port, b'{"TicketIds": ["a"]}')[:-10]
    slow = [connect(emulator.port, timeout=60) for _ in range(SLOW_CONNECTIONS)]
    for connection in slow[::2]:
        connection.send(half)  # and never the rest; the others send nothing
    deadline = time.monotonic() + 60  # hang guard: accepting them takes far less
    while emulator.connection_count() < SLOW_CONNECTIONS:  # no event to await: poll
        assert time.monotonic() < deadline, f"{emulator.connection_count()} accepted"
        time.sleep(0.01)
    gamelift = make_gamelift(emulator.endpoint_url)  # read timeout: the hang guard
    assert gamelift.describe_matchmaking(TicketIds=["a"])["TicketList"] == []
    assert emulator.connection_count() >= SLOW_CONNECTIONS  # none was evicted to make room
    assert threading.active_count() == threads_before  # one event loop serves them all


def test_connection_cap_refuses_with_503_when_none_is_idle(
    make_emulator: Callable[..., Emulator], connect: Callable[..., Raw]
) -> None:
    """With every slot mid-request, a new connection answers 503; service resumes after."""
    emulator = make_emulator(socket_timeout=1.0, max_connections=4)
    busy = [connect(emulator.port) for _ in range(4)]
    for connection in busy:
        expect = {"Expect": "100-continue"}
        head = signed_request(emulator.port, b"", extra_headers=expect, content_length="10")
        connection.send(head)  # and never the body
        assert connection.answer().status == 100  # past the headers: not idle any more
    extra = connect(emulator.port)
    aws_error(extra.answer(), 503, "ServiceUnavailableException")
    for connection in busy:
        aws_error(connection.answer(), 408, "RequestTimeoutException")
    assert_serving(emulator)


# ---- memory -----------------------------------------------------------------------


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture
def emulator_process() -> Iterator[tuple[int, int]]:
    """``python -m gamelift_emulator`` as a subprocess: (pid, port)."""
    with launched() as running:
        yield running.pid, running.port


# Worst case for one request: a 1 MiB body of "{}," parses to ~350k dicts (~25 MiB).
# At most MAX_LARGE_BODIES (4) such bodies are held at once, so the growth stays
# below 4 x 25 MiB plus allocator slack, whatever the number of hostile clients.
RSS_GROWTH_BOUND_MIB = 160


def test_memory_stays_bounded_under_a_hostile_burst(emulator_process: tuple[int, int]) -> None:
    """RSS grows less than RSS_GROWTH_BOUND_MIB over a burst of worst-case hostile requests."""
    pid, port = emulator_process
    worst = b'{"TicketIds": [' + b"{}," * 349_000 + b"{}]}"
    hostile = [
        signed_request(port, worst),
        signed_request(port, nested(100_000)),
        signed_request(port, b'{"TicketIds": ["' + b"a" * (2 * 1024 * 1024) + b'"]}'),
        signed_request(port, b"[" + b"1," * 500_000 + b"1]"),
        signed_request(port, b"{", secret_key="wrong"),
    ]

    def burst(rounds: int) -> None:
        def one(index: int) -> int:
            return exchange(port, hostile[index % len(hostile)]).status

        with ThreadPoolExecutor(max_workers=8) as pool:
            assert set(pool.map(one, range(rounds))) == {400, 413}

    burst(10)  # warm the allocator
    before = _rss_kib(pid)
    burst(80)
    idle = [Raw(port) for _ in range(200)]
    try:
        assert exchange(port, signed_request(port, b'{"TicketIds": ["a"]}')).status == 200
    finally:
        for connection in idle:
            connection.close()
    after = _rss_kib(pid)
    print(f"emulator RSS {before // 1024} MiB -> {after // 1024} MiB")
    assert (after - before) / 1024 < RSS_GROWTH_BOUND_MIB


# ---- property-based fuzzing -------------------------------------------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()  # NaN and infinities too: json.dumps writes them as bare literals
    | st.text(max_size=20)
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _mostly(typed: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the member's type (to reach the backend), sometimes any JSON."""
    return st.integers(0, 7).flatmap(lambda n: _json if n == 7 else typed)


_id = st.from_regex(r"[a-zA-Z0-9.-]{0,24}", fullmatch=True) | st.text(max_size=12)
_number = st.floats(allow_nan=False, allow_infinity=False)
_attribute = st.one_of(
    st.fixed_dictionaries({"N": _mostly(_number)}),
    st.fixed_dictionaries({"S": _mostly(st.text(max_size=8))}),
    st.fixed_dictionaries({"SL": _mostly(st.lists(st.text(max_size=5), max_size=3))}),
    st.fixed_dictionaries({"SDM": _mostly(st.dictionaries(st.text(max_size=5), _number))}),
    st.dictionaries(st.sampled_from(["S", "N", "SL", "SDM"]), _json, max_size=3),
)
_player = st.fixed_dictionaries(
    {"PlayerId": _mostly(st.from_regex(r"[a-z0-9-]{1,12}", fullmatch=True))},
    optional={
        "PlayerAttributes": _mostly(st.dictionaries(st.text(max_size=6), _attribute, max_size=3)),
        "Team": _mostly(st.sampled_from(["red", "blue", "green", ""])),
        "LatencyInMs": _mostly(
            st.dictionaries(st.sampled_from(["us-east-1", ""]), st.integers(), max_size=2)
        ),
    },
)
_MEMBERS: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "StopMatchmaking": {"TicketId": _mostly(_id)},
    "DescribeMatchmaking": {"TicketIds": _mostly(st.lists(_mostly(_id), max_size=12))},
    "StartMatchBackfill": {
        "TicketId": _mostly(_id),
        "ConfigurationName": _mostly(st.just("cfg")),
        "GameSessionArn": _mostly(st.just("SESSION")),
        "Players": _mostly(st.lists(_player, max_size=3)),
    },
    "DescribeGameSessions": {
        "FleetId": _mostly(st.just("FLEET")),
        "StatusFilter": _mostly(st.sampled_from(["ACTIVE", "ERROR", "active"])),
        "Limit": _mostly(st.integers(min_value=-5, max_value=2**40)),
        "NextToken": _mostly(_id),
        "Location": _mostly(st.sampled_from(["us-east-1", "custom-x"]) | _id),
    },
}


@st.composite
def _requests(draw: st.DrawFn) -> tuple[str, Any]:
    operation = draw(st.sampled_from(sorted(_MEMBERS)))
    members = _MEMBERS[operation]
    if draw(st.integers(0, 9)) == 9:
        return operation, draw(_json)  # not even an object, sometimes
    every = not draw(st.booleans())  # the simplest draw (False) sends every member
    names = sorted(members) if every else draw(st.lists(st.sampled_from(sorted(members))))
    params = {name: draw(members[name]) for name in names}
    params.update(draw(st.dictionaries(st.text(max_size=8), _json, max_size=2)))
    return operation, params


@pytest.fixture
def fuzz_targets(emulator: Emulator, make_gamelift: Callable[..., Any]) -> dict[str, str]:
    """A configuration, a fleet, a game session and a ticket to aim the fuzzer at."""
    gamelift = make_gamelift(emulator.endpoint_url)
    seed_configuration(gamelift, name="cfg", backfill_mode="MANUAL")
    fleet = emulator.control.create_fleet()["fleet_id"]
    session = emulator.control.create_game_session(fleet, "cfg", 1, 4)
    gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)
    return {'"FLEET"': json.dumps(fleet), '"SESSION"': json.dumps(session["GameSessionId"])}


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(request=_requests())
def test_fuzzed_bodies_get_success_or_an_aws_shaped_4xx(
    emulator: Emulator, fuzz_targets: dict[str, str], request: tuple[str, Any]
) -> None:
    """Arbitrary JSON bodies for four operations never get a 500 or a dropped connection."""
    operation, params = request
    text = json.dumps(params)
    for placeholder, value in fuzz_targets.items():
        text = text.replace(placeholder, value)
    target = f"GameLift.{operation}"
    answer = exchange(emulator.port, signed_request(emulator.port, text.encode(), target))
    if answer.status != 200:
        assert 400 <= answer.status < 500, (operation, params, answer)
        aws_error(answer, answer.status)


def test_http_client_keep_alive_after_errors(emulator: Emulator) -> None:
    """http.client on one keep-alive connection gets every error and success in turn."""
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=10)
    try:
        for body in [b"{", b'{"TicketIds": ["a"]}', b'{"TicketIds": 5}', b'{"TicketIds": ["a"]}']:
            raw = signed_request(emulator.port, body)
            head, _, payload = raw.partition(b"\r\n\r\n")
            headers = dict(
                line.decode("latin-1").split(": ", 1) for line in head.split(b"\r\n")[1:]
            )
            connection.request("POST", "/", body=payload, headers=headers)
            response = connection.getresponse()
            assert response.status in (200, 400)
            response.read()
    finally:
        connection.close()


@pytest.mark.parametrize(
    "body",
    [nested(100_000), b'{"seconds": ' + b"9" * 5000 + b"}", b'{"stop_delay_ms": NaN}', b"\xff"],
)
def test_control_api_refuses_hostile_bodies_with_400(emulator: Emulator, body: bytes) -> None:
    """The control API answers 400 {"error"} to deep, huge-number, NaN or non-UTF-8 bodies."""
    data = b"POST /_emulator/settings HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    answer = exchange(emulator.port, data)
    assert answer.status == 400, answer
    assert set(answer.json()) == {"error"}
    assert answer.headers["x-amzn-requestid"]
    assert emulator.control.settings()["stop_delay_ms"] >= 0
