"""The awsJson1.1 wire format: what boto3, the AWS CLI and the JS SDK v3 send.

A GameLift call is ``POST /`` with ``X-Amz-Target: GameLift.<Operation>``,
``Content-Type: application/x-amz-json-1.1``, a SigV4 ``Authorization`` header and the
input members as a JSON object. The answer is the output as JSON, or an error
``{"__type": "<Code>", "message": "..."}`` with the HTTP status AWS uses for that code.
Every answer carries ``x-amzn-RequestId``.

Order of checks, as AWS's front end does them: protocol (a Smithy RPC v2 CBOR request,
which GameLift's newest model also allows, is refused with a message naming the
protocol, never half-parsed), authentication (SigV4), operation
(``UnknownOperationException`` for anything outside ``OPERATIONS``, the explicit table
of implemented operations: a backend method not in it, such as a control operation, is
never reachable through ``X-Amz-Target``), body (``SerializationException``), faults,
model validation (``ValidationException``), then the backend. The backend's
``GameLiftError``s become error answers; anything else is a bug of the emulator and
becomes ``InternalFailure`` 500 naming the request id (the traceback goes to the log),
so a client never sees a dropped connection.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from botocore import xform_name

from gamelift_emulator.exceptions import GameLiftError, UnknownOperationException
from gamelift_emulator.faults import FaultInjector
from gamelift_emulator.models import GameLiftBackend
from gamelift_emulator.sigv4 import Headers, Identity, SigV4Verifier
from gamelift_emulator.validation import RequestValidator, SerializationError, default_validator

log = logging.getLogger(__name__)

TARGET_PREFIX = "GameLift."
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
_ACCEPTED_CONTENT_TYPES = {"application/x-amz-json-1.1", "application/x-amz-json-1.0"}
# The GameLift operations the emulator serves, each by the GameLiftBackend method of the
# same name in snake_case. Nothing else is dispatched (keep sorted; one per line).
OPERATIONS: Mapping[str, str] = {
    operation: xform_name(operation)
    for operation in (
        "AcceptMatch",
        "CreateAlias",
        "CreateGameSession",
        "CreateGameSessionQueue",
        "CreateMatchmakingConfiguration",
        "CreateMatchmakingRuleSet",
        "CreatePlayerSession",
        "CreatePlayerSessions",
        "DeleteAlias",
        "DeleteGameSessionQueue",
        "DeleteMatchmakingConfiguration",
        "DeleteMatchmakingRuleSet",
        "DescribeAlias",
        "DescribeFleetAttributes",
        "DescribeGameSessionDetails",
        "DescribeGameSessionQueues",
        "DescribeGameSessions",
        "DescribeMatchmaking",
        "DescribeMatchmakingConfigurations",
        "DescribeMatchmakingRuleSets",
        "DescribePlayerSessions",
        "ListAliases",
        "ListFleets",
        "ListTagsForResource",
        "ResolveAlias",
        "SearchGameSessions",
        "StartMatchBackfill",
        "StartMatchmaking",
        "StopMatchmaking",
        "TagResource",
        "TerminateGameSession",
        "UntagResource",
        "UpdateAlias",
        "UpdateGameSession",
        "UpdateGameSessionQueue",
        "UpdateMatchmakingConfiguration",
        "ValidateMatchmakingRuleSet",
    )
}
_EXPECTED = (
    "This GameLift emulator speaks the awsJson1.1 protocol only: POST / with "
    "'X-Amz-Target: GameLift.<Operation>' and 'Content-Type: application/x-amz-json-1.1'"
)


_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass
class Response:
    """An HTTP answer, before it is written to the socket in one piece."""

    status: int
    body: bytes
    content_type: str = JSON_CONTENT_TYPE
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Pending:
    """An answer that is due after ``delay`` seconds (injected latency): the server
    waits without blocking, then calls ``resume`` for the answer."""

    delay: float
    resume: Callable[[], Response | Pending]


class UnsupportedProtocolError(GameLiftError):
    """The request is in a protocol the emulator does not speak (e.g. RPC v2 CBOR)."""

    code = "UnsupportedProtocolException"
    status = 415


_REQUEST_IDS = itertools.count(uuid.uuid4().int >> 64)
_REQUEST_ID_PREFIX = str(uuid.uuid4())[:18]


def new_request_id() -> str:
    """A request id shaped like AWS's (a UUID): unique in this process, cheap to make
    (a random prefix per process and a counter; every call makes one)."""
    return _format_request_id(next(_REQUEST_IDS))


def _format_request_id(number: int) -> str:
    tail = f"{number & 0xFFFFFFFFFFFFFFFF:016x}"
    return f"{_REQUEST_ID_PREFIX}-{tail[:4]}-{tail[4:]}"


def json_response(status: int, payload: object, request_id: str) -> Response:
    """A JSON answer carrying the request id."""
    body = b"{}" if payload == {} else _ENCODER.encode(payload).encode()
    return Response(status, body, headers={"x-amzn-RequestId": request_id})


def error_response(error: GameLiftError, request_id: str) -> Response:
    """The awsJson error shape ``{"__type", "message"}`` with the error's status.

    An error without a message (UnknownOperationException, as AWS's front end answers
    it: 400 ``{"__type":"UnknownOperationException"}``) has no ``message`` member.
    """
    payload: dict[str, str] = {"__type": error.code}
    if error.message:
        payload["message"] = error.message
    return json_response(error.status, payload, request_id)


def internal_failure(request_id: str) -> Response:
    """The answer for a bug of the emulator: never a dropped connection."""
    message = f"An internal error occurred in the GameLift emulator (request id {request_id})."
    return json_response(500, {"__type": "InternalFailure", "message": message}, request_id)


class GameLiftResponder:
    """Turns one awsJson1.1 request into one response, dispatching to the backend.

    ``backend_for(account_id, region)`` returns the backend (``BackendStore.backend``);
    ``operations`` maps each served operation to its backend method's name.
    """

    def __init__(
        self,
        backend_for: Callable[[str, str], GameLiftBackend],
        verifier: SigV4Verifier,
        faults: FaultInjector,
        validator: RequestValidator | None = None,
        operations: Mapping[str, str] = OPERATIONS,
    ) -> None:
        self._backend_for = backend_for
        self._verifier = verifier
        self._faults = faults
        self._validator = validator or default_validator()
        self._methods = dict(operations)
        self._calls: Counter[str] = Counter()
        self._calls_lock = threading.Lock()

    def calls(self) -> dict[str, int]:
        """Calls per operation since the last ``reset_calls``."""
        with self._calls_lock:
            return dict(self._calls)

    def reset_calls(self) -> None:
        """Forget the call counters (part of the control API's reset)."""
        with self._calls_lock:
            self._calls.clear()

    def handle(self, method: str, path: str, headers: Headers, body: bytes) -> Response | Pending:
        """Answer one request, or say how long to wait for the answer; never raises."""
        request_id = new_request_id()
        try:
            answer = self._handle(method, path, headers, body, request_id)
        except GameLiftError as error:
            return error_response(error, request_id)
        except Exception:
            log.exception("internal failure, request id %s", request_id)
            return internal_failure(request_id)
        if isinstance(answer, Pending):
            resume = answer.resume
            return Pending(answer.delay, lambda: _guarded(resume, request_id))
        return answer

    def _handle(
        self, method: str, path: str, headers: Headers, body: bytes, request_id: str
    ) -> Response | Pending:
        self._check_protocol(method, path, headers)
        identity = self._verifier.verify(method, path, headers, body)
        operation = self._operation(headers.get("X-Amz-Target") or "")
        with self._calls_lock:
            self._calls[operation] += 1
        params = _parse_body(body)
        delay = self._faults.latency(operation)
        if delay > 0:
            return Pending(delay, lambda: self._call(operation, params, identity, request_id))
        return self._call(operation, params, identity, request_id)

    def _call(
        self, operation: str, params: object, identity: Identity, request_id: str
    ) -> Response:
        """Faults, validation, then the backend method of ``operation``."""
        self._faults.after_latency(operation)
        valid = self._validator.validate(operation, params)
        backend = self._backend_for(identity.account_id, identity.region)
        result = getattr(backend, self._methods[operation])(**valid)
        return json_response(200, result if result is not None else {}, request_id)

    @staticmethod
    def _check_protocol(method: str, path: str, headers: Headers) -> None:
        content_type = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        smithy = (headers.get("smithy-protocol") or "").strip().lower()
        if smithy == "rpc-v2-cbor" or content_type == "application/cbor" or "/operation/" in path:
            raise UnsupportedProtocolError(
                f"{_EXPECTED}. This request uses the Smithy RPC v2 CBOR protocol "
                f"(smithy-protocol: {smithy or '-'}, Content-Type: {content_type or '-'}, "
                f"path {path}); configure the client for the JSON protocol."
            )
        if method != "POST" or path.split("?")[0] != "/":
            raise UnsupportedProtocolError(f"{_EXPECTED}; got {method} {path}.")
        if content_type not in _ACCEPTED_CONTENT_TYPES:
            raise UnsupportedProtocolError(
                f"{_EXPECTED}; got Content-Type {content_type or '(none)'!r}."
            )

    def _operation(self, target: str) -> str:
        """The served operation named by ``X-Amz-Target``; else UnknownOperationException."""
        prefix, _, operation = target.partition(".")
        if prefix + "." != TARGET_PREFIX or operation not in self._methods:
            raise UnknownOperationException()
        return operation


def _guarded(answer: Callable[[], Response | Pending], request_id: str) -> Response | Pending:
    """``answer()``, with errors turned into answers: GameLift's own, or InternalFailure."""
    try:
        return answer()
    except GameLiftError as error:
        return error_response(error, request_id)
    except Exception:
        log.exception("internal failure, request id %s", request_id)
        return internal_failure(request_id)


def _reject_constant(name: str) -> object:
    raise SerializationError(f"Could not parse the request body as JSON: {name} is not a number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (_INFINITY, -_INFINITY):
        raise SerializationError(
            f"Could not parse the request body as JSON: {text} is out of range"
        )
    return value


_INFINITY = float("inf")
# Strict JSON, as AWS's parsers: UTF-8 only, no NaN/Infinity, no numbers beyond a double.
_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_finite_float)


def _parse_body(body: bytes) -> object:
    if not body.strip():
        return {}
    try:
        return _DECODER.decode(body.decode("utf-8"))
    except RecursionError:
        raise SerializationError("The request body is nested too deeply.") from None
    except ValueError as error:  # not UTF-8, not JSON, or an integer of > 4300 digits
        raise SerializationError(f"Could not parse the request body as JSON: {error}") from None
