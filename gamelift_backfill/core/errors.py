"""The exception tree of the core, and the translation of botocore errors into it.

Every error a user can see is a :class:`BackfillError`. Its class attributes give the
upper-case ``code`` of the CLI's JSON envelope and the process ``exit_code`` (click style:
1 for a failure, 2 for bad input); its message says what happened, which ticket or fleet,
and what to do. Messages never carry credentials or player IDs.

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

:func:`translate` is the one place botocore exceptions become these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar, NamedTuple

from botocore import exceptions as boto_exc

FINISH_HINT = "run `pulumi destroy` (or the same command) again to finish"
# What tickets.py appends to the last status of a ticket whose StopMatchmaking was still
# unanswered at the deadline.
STOP_UNANSWERED = "StopMatchmaking unanswered"


class Failure(NamedTuple):
    """One input problem: the property as the user wrote it, and what is wrong with it."""

    field: str
    reason: str


class BackfillError(Exception):
    """Base of every error the core raises; ``str(err)`` is the user-facing message."""

    code: ClassVar[str] = "SERVICE_ERROR"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InputError(BackfillError):
    """Input that fails validation before any call; ``failures`` names each field and why."""

    code = "VALIDATION_ERROR"
    exit_code = 2

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        super().__init__("; ".join(f"{f.field}: {f.reason}" for f in self.failures))

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

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status


class UnsupportedRegionError(ServiceError):
    """The region has no GameLift (or no FlexMatch)."""

    code = "UNSUPPORTED_REGION"


class EndpointError(BackfillError):
    """The endpoint could not be reached: connection refused or reset, or a timeout."""

    code = "CONNECTION_ERROR"
    exit_code = 6


class StopTimeoutError(BackfillError):
    """Tickets still active at the deadline; ``still_active`` maps each to its last status."""

    code = "TIMEOUT"
    exit_code = 7

    def __init__(self, still_active: Mapping[str, str], timeout_seconds: float) -> None:
        self.still_active = dict(still_active)
        self.timeout_seconds = timeout_seconds
        shown = ", ".join(f"{t} ({s})" for t, s in list(self.still_active.items())[:20])
        more = len(self.still_active) - 20
        extra = f" and {more} more" if more > 0 else ""
        unanswered = sum(STOP_UNANSWERED in s for s in self.still_active.values())
        # A stop still unanswered at the deadline is a network, endpoint or throttling
        # problem (botocore is still retrying it), not a ticket that cannot be cancelled.
        why = (
            f" GameLift did not answer StopMatchmaking for {unanswered} of them in time "
            "(unreachable endpoint, network, or throttling): check the network and "
            "`endpoint_url`."
            if unanswered
            else ""
        )
        super().__init__(
            f"{len(self.still_active)} backfill ticket(s) still active after "
            f"{timeout_seconds:g}s: {shown}{extra}.{why} Tickets in PLACING or "
            f"REQUIRES_ACCEPTANCE cannot be cancelled and end on their own; "
            f"{FINISH_HINT}, or raise stop_timeout_seconds."
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
    A BackfillError passes through unchanged; anything unknown becomes a ServiceError.
    """
    if isinstance(exc, BackfillError):
        return exc
    subject = _subject(ticket_ids, fleet_id)
    where = f"region {region or '(unresolved)'}" + (f" at {endpoint_url}" if endpoint_url else "")
    if isinstance(exc, boto_exc.ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        service_msg = _redact(str(error.get("Message", "")), redact)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        detail = f"{operation}{subject} failed with {code}"
        if code in AUTH_CODES:
            return AuthError(
                f"{detail} in {where}: the credentials were refused or lack permission. "
                "Check AWS credentials / AWS_PROFILE, that they are not expired, and that "
                f"the IAM policy allows gamelift:{operation}."
            )
        if code in THROTTLING_CODES and exc.response.get("ResponseMetadata", {}).get(
            "RetryQuotaReached"
        ):
            # botocore gave up before its attempts did: the client's retry quota (a budget
            # each retry spends) is empty, which says throttling is heavy and lasting.
            return ThrottledError(
                f"{detail} in {where}: still throttled, and botocore's retry quota for this "
                "process ran out. GameLift's rate limits are per account, so teardowns running "
                "at the same time share them. Wait a minute and "
                f"{FINISH_HINT}; keep the default adaptive retry mode (AWS_RETRY_MODE=adaptive), "
                "which paces calls to the rate limit, or lower max_concurrency."
            )
        if code in THROTTLING_CODES:
            return ThrottledError(
                f"{detail} in {where}: still throttled after retries. Lower max_concurrency "
                f"or retry later; {FINISH_HINT}."
            )
        if code == "UnsupportedRegionException":
            return UnsupportedRegionError(
                f"{detail}: the {where} has no GameLift FlexMatch. Set `region` (or "
                "`aws:region`) to a region where the configuration lives."
            )
        if code == "NotFoundException":
            return NotFoundError(
                f"{detail} in {where}: {service_msg or 'not found'}. Check the name or ID "
                "and the region."
            )
        if isinstance(status, int) and status >= 500:
            return ServiceError(
                f"{detail} (HTTP {status}) in {where} after retries: {service_msg}. "
                f"GameLift is having trouble; {FINISH_HINT} later.",
                http_status=status,
            )
        return ServiceError(
            f"{detail} in {where}: {service_msg}",
            http_status=status if isinstance(status, int) else None,
        )
    if isinstance(exc, NO_CREDENTIALS):
        return AuthError(
            f"{operation}{subject}: no usable AWS credentials ({type(exc).__name__}). "
            "Check AWS credentials / AWS_PROFILE (environment, shared config or SSO)."
        )
    if isinstance(exc, boto_exc.NoRegionError):
        return InputError(
            [Failure("region", "no region: set `region`, `aws:region` or AWS_REGION")]
        )
    if isinstance(exc, boto_exc.ParamValidationError):
        return InputError([Failure(operation, _redact(str(exc), redact))])
    if isinstance(exc, UNREACHABLE):
        return EndpointError(
            f"{operation}{subject}: could not reach GameLift in {where} "
            f"({type(exc).__name__}). Check the network and `endpoint_url` "
            f"(AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL); {FINISH_HINT}."
        )
    return ServiceError(
        f"{operation}{subject} failed in {where}: {type(exc).__name__}: {_redact(str(exc), redact)}"
    )
