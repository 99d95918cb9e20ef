"""The exception tree of the core, and the translation of botocore errors into it.

Every error a user can see is a :class:`BackfillError`. Errors are data: besides the
upper-case ``code`` of the CLI's JSON envelope and the process ``exit_code`` (click style:
1 for a failure, 2 for bad input), each carries what failed (``operation``), the tickets
still not seen ended (``remaining``: ID, last status, and whether StopMatchmaking was
still unanswered), and what would help (``remedies``, words no front end owns). Its
``message`` says what happened and to what; it never phrases a front end's fix (no
`pulumi destroy`, no command-line option): each front end adds that in its own words
through ``advice`` (see ``gamelift_backfill.translate.phrase``). Messages never carry
credentials or player IDs.

::

    BackfillError                      (code SERVICE_ERROR, exit 1)
    ├── InputError                     VALIDATION_ERROR    exit 2  bad input; ``failures``
    │   └── MatchmakerDataError        VALIDATION_ERROR    exit 2  unusable MatchmakerData
    ├── NotFoundError                  NOT_FOUND           exit 3  configuration/session/fleet
    ├── ThrottledError                 THROTTLED           exit 4  still throttled after retries
    ├── AuthError                      AUTH_ERROR          exit 5  credentials, AccessDenied
    ├── ServiceError                   SERVICE_ERROR       exit 1  5xx after retries, refusals
    │   └── UnsupportedRegionError     UNSUPPORTED_REGION  exit 1  region without GameLift
    ├── EndpointError                  CONNECTION_ERROR    exit 6  refused/reset/timed out
    └── StopTimeoutError               TIMEOUT             exit 7  tickets still active
        └── NotQuietError              TIMEOUT             exit 7  sessions that may still
                                                                   start automatic backfill

:func:`translate` is the one place botocore exceptions become these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal, NamedTuple

from botocore import exceptions as boto_exc

# What would help, named without any front end's words (translate.Phrasebook has those):
Remedy = Literal[
    "retry",  # running the same teardown again finishes the job
    "retry_later",  # the same, after a pause (GameLift is struggling or throttling)
    "raise_timeout",  # a longer deadline would let slow tickets end
    "check_endpoint",  # the network and the endpoint setting
    "lower_concurrency",  # fewer StopMatchmaking calls at once
    "set_region",  # a region must be given (none found) or changed
    "check_credentials",  # the AWS credential chain and the IAM policy
    "stop_remaining",  # a ticket may run that nothing will stop: check and stop it by ID
    "disable_backfill",  # the configuration's BackfillMode MANUAL removes the cause
]


@dataclass(frozen=True)
class TicketState:
    """A ticket not yet seen ended: its last status, and whether our StopMatchmaking was
    still unanswered when the wait ended (a network problem, not a ticket that refuses)."""

    ticket_id: str
    status: str
    stop_unanswered: bool = False


# How a message shows a ticket whose StopMatchmaking was unanswered (the data is the field).
UNANSWERED_NOTE = ", StopMatchmaking unanswered"


class Failure(NamedTuple):
    """One input problem: the property as the user wrote it, and what is wrong with it."""

    field: str
    reason: str


class BackfillError(Exception):
    """Base of every error the core raises; ``str(err)`` is the message plus the front
    end's ``advice`` (empty until a front end phrases it)."""

    code: ClassVar[str] = "SERVICE_ERROR"
    exit_code: ClassVar[int] = 1

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        remaining: Sequence[TicketState] = (),
        remedies: Sequence[Remedy] = (),
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.remaining: tuple[TicketState, ...] = tuple(remaining)
        self.remedies: tuple[Remedy, ...] = tuple(remedies)
        self.advice = ""

    def __str__(self) -> str:
        return f"{self.message} {self.advice}" if self.advice else self.message

    @property
    def unanswered(self) -> list[str]:
        """Remaining tickets whose StopMatchmaking was still unanswered."""
        return [t.ticket_id for t in self.remaining if t.stop_unanswered]


class InputError(BackfillError):
    """Input that fails validation before any call; ``failures`` names each field and why."""

    code = "VALIDATION_ERROR"
    exit_code = 2

    def __init__(self, failures: Sequence[Failure], remedies: Sequence[Remedy] = ()) -> None:
        self.failures = list(failures)
        super().__init__(
            "; ".join(f"{f.field}: {f.reason}" for f in self.failures), remedies=remedies
        )

    @property
    def fields(self) -> list[str]:
        """The property names at fault, in order."""
        return [f.field for f in self.failures]


class MatchmakerDataError(InputError):
    """A game session's MatchmakerData cannot give players: pass ``players`` yourself."""


class NotFoundError(BackfillError):
    """GameLift does not know the configuration, game session or fleet named."""

    code = "NOT_FOUND"
    exit_code = 3


class ThrottledError(BackfillError):
    """GameLift still throttled the call after botocore's retries."""

    code = "THROTTLED"
    exit_code = 4


class AuthError(BackfillError):
    """No usable credentials, a wrong secret, an expired token, or AccessDenied."""

    code = "AUTH_ERROR"
    exit_code = 5


class ServiceError(BackfillError):
    """GameLift failed (5xx after retries) or refused the request for a reason of its own.

    ``http_status`` is the answer's status when there was one: a 5xx leaves open whether
    the request took effect.
    """

    code = "SERVICE_ERROR"
    exit_code = 1

    def __init__(
        self,
        message: str,
        http_status: int | None = None,
        *,
        operation: str | None = None,
        remedies: Sequence[Remedy] = (),
    ) -> None:
        super().__init__(message, operation=operation, remedies=remedies)
        self.http_status = http_status


class UnsupportedRegionError(ServiceError):
    """The region has no GameLift (or no FlexMatch)."""

    code = "UNSUPPORTED_REGION"


class EndpointError(BackfillError):
    """The endpoint could not be reached: connection refused or reset, or a timeout."""

    code = "CONNECTION_ERROR"
    exit_code = 6


class StopTimeoutError(BackfillError):
    """Tickets still active at the deadline; ``remaining`` holds each with its last status
    (``still_active`` maps ID -> status)."""

    code = "TIMEOUT"
    exit_code = 7

    def __init__(
        self, remaining: Sequence[TicketState] | Mapping[str, str], timeout_seconds: float
    ) -> None:
        if isinstance(remaining, Mapping):
            remaining = [TicketState(t, s) for t, s in remaining.items()]
        self.timeout_seconds = timeout_seconds
        shown = ", ".join(
            f"{t.ticket_id} ({t.status}{UNANSWERED_NOTE if t.stop_unanswered else ''})"
            for t in remaining[:20]
        )
        more = len(remaining) - 20
        extra = f" and {more} more" if more > 0 else ""
        unanswered = sum(t.stop_unanswered for t in remaining)
        # A stop still unanswered at the deadline is a network, endpoint or throttling
        # problem (botocore is still retrying it), not a ticket that cannot be cancelled.
        why = (
            f" GameLift did not answer StopMatchmaking for {unanswered} of them in time "
            "(unreachable endpoint, network, or throttling)."
            if unanswered
            else ""
        )
        remedies: list[Remedy] = ["retry", "raise_timeout"]
        if unanswered:
            remedies.insert(0, "check_endpoint")
        super().__init__(
            f"{len(remaining)} backfill ticket(s) still active after "
            f"{timeout_seconds:g}s: {shown}{extra}.{why} Tickets in PLACING or "
            "REQUIRES_ACCEPTANCE cannot be cancelled and end on their own.",
            operation="stop and wait",
            remaining=remaining,
            remedies=remedies,
        )

    @property
    def still_active(self) -> dict[str, str]:
        """Each remaining ticket's last status, by ID."""
        return {t.ticket_id: t.status for t in self.remaining}


@dataclass(frozen=True)
class SessionState:
    """A game session GameLift may still start automatic backfill for, and why: its status,
    the automatic ticket its MatchmakerData names (with that ticket's last status)."""

    game_session_arn: str
    reason: str
    ticket_id: str | None = None
    ticket_status: str | None = None


class NotQuietError(StopTimeoutError):
    """The drain's deadline passed while game sessions could still start automatic
    backfill (``sessions``): nothing is active now, but a replacement ticket may start
    later and hold the configuration. Never reported as success."""

    def __init__(self, sessions: Sequence[SessionState], timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self.sessions: tuple[SessionState, ...] = tuple(sessions)
        shown = ", ".join(f"{s.game_session_arn} ({s.reason})" for s in self.sessions[:20])
        more = len(self.sessions) - 20
        extra = f" and {more} more" if more > 0 else ""
        BackfillError.__init__(
            self,
            f"{len(self.sessions)} game session(s) may still start automatic backfill after "
            f"{timeout_seconds:g}s: {shown}{extra}. GameLift starts a new automatic backfill "
            "ticket for an ACTIVE, not full session of an AUTOMATIC configuration some time "
            "after its ticket ends on its own; stopping that ticket, or the configuration's "
            "BackfillMode MANUAL, turns it off.",
            operation="drain",
            remedies=["retry", "raise_timeout", "disable_backfill"],
        )


THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded"}
)
AUTH_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidClientTokenId",
        "MissingAuthenticationToken",
        "ExpiredToken",
        "ExpiredTokenException",
        "AccessDeniedException",
        "AccessDenied",
        "UnauthorizedException",
        "UnauthorizedOperation",
    }
)
NO_CREDENTIALS = (
    boto_exc.NoCredentialsError,
    boto_exc.PartialCredentialsError,
    boto_exc.CredentialRetrievalError,
    boto_exc.ProfileNotFound,
    boto_exc.TokenRetrievalError,
    boto_exc.SSOTokenLoadError,
)
UNREACHABLE = (
    boto_exc.EndpointConnectionError,
    boto_exc.ConnectTimeoutError,
    boto_exc.ReadTimeoutError,
    boto_exc.ConnectionClosedError,
    boto_exc.ProxyConnectionError,
    boto_exc.SSLError,
)


def _subject(ticket_ids: Sequence[str] | None, fleet_id: str | None) -> str:
    if ticket_ids:
        more = f" and {len(ticket_ids) - 5} more" if len(ticket_ids) > 5 else ""
        return f" for ticket {', '.join(ticket_ids[:5])}{more}"
    if fleet_id:
        return f" for fleet {fleet_id}"
    return ""


def _redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = text.replace(secret, "<redacted>")
    return text


@dataclass(frozen=True)
class Rule:
    """One row of the translation table: when it applies, and the error it makes.

    A row applies to a botocore ``ClientError`` whose code is in ``codes`` (any code when
    None), whose retry quota ran out when ``quota_reached`` is True, and whose HTTP status
    is at least ``min_status``; or, with ``types``, to an exception of one of those types.
    ``message`` is formatted with ``detail`` (operation, subject, code), ``subject``,
    ``where`` (region and endpoint), ``operation``, ``code``, ``status``, ``service_msg``
    (redacted), ``not_found`` (the service's message or "not found"), ``exc_type`` and
    ``cause`` (the exception's text, redacted). An InputError row gives ``failure`` (field
    and reason templates) instead of a message.
    """

    error: type[BackfillError]
    message: str = ""
    remedies: tuple[Remedy, ...] = ()
    codes: frozenset[str] | None = None
    quota_reached: bool = False
    min_status: int | None = None
    types: tuple[type[Exception], ...] = ()
    keep_status: bool = False  # a ServiceError carries the answer's HTTP status
    failure: tuple[str, str] | None = None

    def applies(self, exc: Exception, code: str | None, meta: Mapping[str, object]) -> bool:
        """Whether this row translates ``exc`` (``code``/``meta``: a ClientError's)."""
        if self.types:
            return isinstance(exc, self.types)
        if code is None:
            return False
        status = meta.get("HTTPStatusCode")
        return (
            (self.codes is None or code in self.codes)
            and (not self.quota_reached or bool(meta.get("RetryQuotaReached")))
            and (self.min_status is None or (isinstance(status, int) and status >= self.min_status))
        )


# The table: the first row that applies makes the error; the last rows catch the rest.
CLIENT_ERROR_RULES: tuple[Rule, ...] = (
    Rule(
        AuthError,
        "{detail} in {where}: the credentials were refused or lack permission "
        "(the IAM policy must allow gamelift:{operation}).",
        ("check_credentials",),
        codes=AUTH_CODES,
    ),
    # botocore gave up before its attempts did: the client's retry quota (a budget each
    # retry spends) is empty, which says throttling is heavy and lasting.
    Rule(
        ThrottledError,
        "{detail} in {where}: still throttled, and botocore's retry quota for this "
        "process ran out. GameLift's rate limits are per account, so teardowns running "
        "at the same time share them; keep the default adaptive retry mode "
        "(AWS_RETRY_MODE=adaptive), which paces calls to the rate limit.",
        ("retry_later", "lower_concurrency"),
        codes=THROTTLING_CODES,
        quota_reached=True,
    ),
    Rule(
        ThrottledError,
        "{detail} in {where}: still throttled after retries.",
        ("lower_concurrency", "retry_later"),
        codes=THROTTLING_CODES,
    ),
    Rule(
        UnsupportedRegionError,
        "{detail}: the {where} has no GameLift FlexMatch.",
        ("set_region",),
        codes=frozenset({"UnsupportedRegionException"}),
    ),
    Rule(
        NotFoundError,
        "{detail} in {where}: {not_found}. Check the name or ID and the region.",
        codes=frozenset({"NotFoundException"}),
    ),
    Rule(
        ServiceError,
        "{detail} (HTTP {status}) in {where} after retries: {service_msg}. "
        "GameLift is having trouble.",
        ("retry_later",),
        min_status=500,
        keep_status=True,
    ),
    Rule(ServiceError, "{detail} in {where}: {service_msg}", keep_status=True),
)
OTHER_ERROR_RULES: tuple[Rule, ...] = (
    Rule(
        AuthError,
        "{operation}{subject}: no usable AWS credentials ({exc_type}).",
        ("check_credentials",),
        types=NO_CREDENTIALS,
    ),
    Rule(
        InputError,
        remedies=("set_region",),
        types=(boto_exc.NoRegionError,),
        failure=("region", "no region given"),
    ),
    Rule(InputError, types=(boto_exc.ParamValidationError,), failure=("{operation}", "{cause}")),
    Rule(
        EndpointError,
        "{operation}{subject}: could not reach GameLift in {where} ({exc_type}).",
        ("check_endpoint", "retry"),
        types=UNREACHABLE,
    ),
    Rule(
        ServiceError,
        "{operation}{subject} failed in {where}: {exc_type}: {cause}",
        types=(Exception,),
    ),
)


def translate(
    exc: Exception,
    *,
    operation: str,
    region: str | None = None,
    endpoint_url: str | None = None,
    ticket_ids: Sequence[str] | None = None,
    fleet_id: str | None = None,
    redact: Iterable[str] = (),
) -> BackfillError:
    """Turn a botocore exception raised by ``operation`` into a BackfillError a user can act on.

    ``redact`` lists strings (player IDs) that must not appear in the service's message.
    A BackfillError passes through unchanged; anything else is translated by the first
    row of the table (``CLIENT_ERROR_RULES``, ``OTHER_ERROR_RULES``) that applies.
    """
    if isinstance(exc, BackfillError):
        return exc
    subject = _subject(ticket_ids, fleet_id)
    where = f"region {region or '(unresolved)'}" + (f" at {endpoint_url}" if endpoint_url else "")
    fields = {
        "operation": operation,
        "subject": subject,
        "where": where,
        "exc_type": type(exc).__name__,
        "cause": _redact(str(exc), redact),
    }
    code: str | None = None
    meta: Mapping[str, object] = {}
    rules = OTHER_ERROR_RULES
    if isinstance(exc, boto_exc.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        meta = exc.response.get("ResponseMetadata", {})
        service_msg = _redact(str(error.get("Message", "")), redact)
        fields |= {
            "code": code,
            "status": str(meta.get("HTTPStatusCode")),
            "service_msg": service_msg,
            "not_found": service_msg or "not found",
            "detail": f"{operation}{subject} failed with {code}",
        }
        rules = CLIENT_ERROR_RULES
    rule = next(r for r in rules if r.applies(exc, code, meta))
    return _made(rule, fields, meta.get("HTTPStatusCode"), operation)


def _made(rule: Rule, fields: Mapping[str, str], status: object, operation: str) -> BackfillError:
    """The error a table row makes from the fields of one failure."""
    if rule.failure is not None:
        name, reason = (part.format(**fields) for part in rule.failure)
        return InputError([Failure(name, reason)], remedies=rule.remedies)
    message = rule.message.format(**fields)
    if issubclass(rule.error, ServiceError):
        http_status = status if rule.keep_status and isinstance(status, int) else None
        return rule.error(
            message, http_status=http_status, operation=operation, remedies=rule.remedies
        )
    return rule.error(message, operation=operation, remedies=rule.remedies)
