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
from collections import Counter, deque
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

CALL_LOG_LIMIT = 10_000
"""How many calls the ordered call log keeps (the newest); older ones are counted as
dropped. Bounded so that a benchmark's millions of calls cost no memory."""
CALL_LOG_MEMBERS = (
    "Name",
    "ConfigurationName",
    "TicketId",
    "TicketIds",
    "GameSessionArn",
    "GameSessionId",
    "FleetId",
    "AliasId",
)
"""The request members a call log entry keeps: what names the thing a call acts on (never
player data)."""
CALL_LOG_MAX_CHARS = 256
CALL_LOG_MAX_ITEMS = 10
"""A logged member keeps at most this many characters (longer strings are cut, ``...``
appended) and a list at most this many items (strings; anything else as null): a hostile
request must not make the log hold its body (GameLift's own limits are 128-512 characters
and 10 ticket IDs)."""


class CallRecord:
    """One GameLift call in the ordered call log (``GameLiftResponder.call_log``).

    Made when the operation is known (after protocol and SigV4 checks), finished with
    the answer's status; ``status`` is None while the answer is pending (latency fault).
    """

    __slots__ = ("error", "members", "operation", "seq", "status")

    def __init__(self, seq: int, operation: str, members: dict[str, object]) -> None:
        self.seq = seq
        self.operation = operation
        self.members = members
        self.error: str | None = None
        self.status: int | None = None

    def finish(self, answer: Response) -> None:
        """Record the answer: its status and, for an error, GameLift's ``__type``."""
        if answer.status >= 400:
            try:
                self.error = json.loads(answer.body).get("__type")
            except (ValueError, AttributeError):
                self.error = None
        self.status = answer.status  # last: a reader seeing a status sees its error

    def as_json(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "operation": self.operation,
            **self.members,
            "status": self.status,
            "error": self.error,
        }


def _call_members(params: object) -> dict[str, object]:
    if not isinstance(params, dict):
        return {}
    return {key: _bounded(params[key]) for key in CALL_LOG_MEMBERS if key in params}


def _bounded(value: object) -> object:
    """A member as the call log keeps it: a short string, a short list of them, or None."""
    if isinstance(value, str):
        if len(value) <= CALL_LOG_MAX_CHARS:
            return value
        return value[:CALL_LOG_MAX_CHARS] + "..."
    if isinstance(value, list):
        return [
            _bounded(item) if isinstance(item, str) else None for item in value[:CALL_LOG_MAX_ITEMS]
        ]
    return None


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
    ``operations`` maps each served operation to its backend method's name. Every call
    whose operation is known is counted (``calls``) and logged in order (``call_log``,
    the newest ``call_log_limit``).
    """

    def __init__(
        self,
        backend_for: Callable[[str, str], GameLiftBackend],
        verifier: SigV4Verifier,
        faults: FaultInjector,
        validator: RequestValidator | None = None,
        operations: Mapping[str, str] = OPERATIONS,
        call_log_limit: int = CALL_LOG_LIMIT,
    ) -> None:
        self._backend_for = backend_for
        self._verifier = verifier
        self._faults = faults
        self._validator = validator or default_validator()
        self._methods = dict(operations)
        self._calls: Counter[str] = Counter()
        self._call_log: deque[CallRecord] = deque(maxlen=call_log_limit)
        self._call_seq = 0
        self._calls_lock = threading.Lock()

    def calls(self) -> dict[str, int]:
        """Calls per operation since the last ``reset_calls``."""
        with self._calls_lock:
            return dict(self._calls)

    def call_log(self, since: int = 0) -> dict[str, object]:
        """The calls since the last ``reset_calls``, in the order they arrived, after
        sequence number ``since``: ``{"calls": [entry, ...], "dropped": n}``.

        An entry is ``{"seq", "operation", <CALL_LOG_MEMBERS present in the request>,
        "status", "error"}``: ``status`` is the HTTP status of the answer (None while it is
        pending), ``error`` GameLift's error code of a failed call. ``dropped`` counts the
        calls older than the newest ``call_log_limit``, no longer kept.
        """
        with self._calls_lock:
            entries = [record.as_json() for record in self._call_log if record.seq > since]
            dropped = self._call_seq - len(self._call_log)
        return {"calls": entries, "dropped": dropped}

    def reset_calls(self) -> None:
        """Forget the call counters and the call log (part of the control API's reset)."""
        with self._calls_lock:
            self._calls.clear()
            self._call_log.clear()
            self._call_seq = 0

    def handle(self, method: str, path: str, headers: Headers, body: bytes) -> Response | Pending:
        """Answer one request, or say how long to wait for the answer; never raises."""
        request_id = new_request_id()
        logged: list[CallRecord] = []
        try:
            answer = self._handle(method, path, headers, body, request_id, logged)
        except GameLiftError as error:
            answer = error_response(error, request_id)
        except Exception:
            log.exception("internal failure, request id %s", request_id)
            answer = internal_failure(request_id)
        return _finished(answer, logged, request_id)

    def _count(self, operation: str, params: object, logged: list[CallRecord]) -> None:
        """Count the call and append it to the call log (``logged`` receives its entry)."""
        members = _call_members(params)
        with self._calls_lock:
            self._calls[operation] += 1
            self._call_seq += 1
            record = CallRecord(self._call_seq, operation, members)
            self._call_log.append(record)
        logged.append(record)

    def _handle(
        self,
        method: str,
        path: str,
        headers: Headers,
        body: bytes,
        request_id: str,
        logged: list[CallRecord],
    ) -> Response | Pending:
        self._check_protocol(method, path, headers)
        identity = self._verifier.verify(method, path, headers, body)
        operation = self._operation(headers.get("X-Amz-Target") or "")
        try:
            params = _parse_body(body)
        except SerializationError:
            self._count(operation, None, logged)
            raise
        self._count(operation, params, logged)
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


def _finished(
    answer: Response | Pending, logged: list[CallRecord], request_id: str
) -> Response | Pending:
    """``answer``, recorded in the call log entry of its call (if the call got one) once
    it is a response; a pending answer resumes guarded (`_guarded`) and is recorded then."""
    if isinstance(answer, Pending):
        resume = answer.resume
        return Pending(
            answer.delay, lambda: _finished(_guarded(resume, request_id), logged, request_id)
        )
    if logged:
        logged[0].finish(answer)
    return answer


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
