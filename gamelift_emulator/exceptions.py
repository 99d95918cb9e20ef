"""Errors the emulator answers with, one class per AWS error code.

The wire layer turns any :class:`GameLiftError` into ``{"__type": code, "message": ...}``
with ``status`` as the HTTP status, so raising the right class is all a backend does.

Tree (HTTP status in brackets)::

    GameLiftError                              base: code, message, status
    ├── InvalidRequestException          [400] bad parameter values, wrong state;
    │                                          also AWS's own model-validation errors
    │                                          ("1 validation error detected: ...")
    ├── NotFoundException                [400] unknown ticket, fleet, configuration...
    ├── ConflictException                [400] resource already exists / in use
    ├── LimitExceededException           [400] a service quota is reached
    ├── ThrottlingException              [400] rate limit (faults)
    ├── UnsupportedRegionException       [400] operation not offered in the region
    ├── UnauthorizedException            [400] caller may not do this
    ├── InvalidFleetStatusException      [400] fleet not in a usable status
    ├── InvalidGameSessionStatusException[400] game session not in a usable status
    ├── IdempotentParameterMismatchException [400]
    ├── FleetCapacityExceededException   [400]
    ├── GameSessionFullException         [400] no open player slot
    ├── TerminalRoutingStrategyException [400]
    ├── TaggingFailedException           [400]
    ├── InternalServiceException         [500] (faults)
    └── protocol-level errors, raised by the wire layer rather than the backend:
        UnknownOperationException [400], SerializationException [400],
        MissingAuthenticationTokenException [403], IncompleteSignatureException [400],
        InvalidSignatureException [400], UnrecognizedClientException [400]

GameLift itself reports input that fails its model (lengths, patterns) as
InvalidRequestException with a "1 validation error detected" message, not as a
ValidationException, so there is deliberately no ValidationException here.
"""

# ruff: noqa: N818  (class names are AWS error codes, not ours to choose)
from __future__ import annotations

from typing import ClassVar

__all__ = [
    "ERRORS_BY_CODE",
    "AccessDeniedException",
    "ConflictException",
    "FleetCapacityExceededException",
    "GameLiftError",
    "GameSessionFullException",
    "IdempotentParameterMismatchException",
    "IncompleteSignatureException",
    "InternalServiceException",
    "InvalidFleetStatusException",
    "InvalidGameSessionStatusException",
    "InvalidRequestException",
    "InvalidSignatureException",
    "LimitExceededException",
    "MissingAuthenticationTokenException",
    "NotFoundException",
    "SerializationException",
    "TaggingFailedException",
    "TerminalRoutingStrategyException",
    "ThrottlingException",
    "UnauthorizedException",
    "UnknownOperationException",
    "UnrecognizedClientException",
    "UnsupportedRegionException",
    "error_for_code",
]


class GameLiftError(Exception):
    """An error as AWS reports it: a code (``__type``), a message and an HTTP status."""

    code: ClassVar[str] = "GameLiftError"
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class InvalidRequestException(GameLiftError):
    code = "InvalidRequestException"


class NotFoundException(GameLiftError):
    code = "NotFoundException"


class ConflictException(GameLiftError):
    code = "ConflictException"


class LimitExceededException(GameLiftError):
    code = "LimitExceededException"


class ThrottlingException(GameLiftError):
    code = "ThrottlingException"
    default_message = "Rate exceeded"


class UnsupportedRegionException(GameLiftError):
    code = "UnsupportedRegionException"


class UnauthorizedException(GameLiftError):
    code = "UnauthorizedException"


class AccessDeniedException(GameLiftError):
    """What AWS answers when IAM denies the operation (for fault injection)."""

    code = "AccessDeniedException"
    default_message = "User is not authorized to perform this operation."


class InvalidFleetStatusException(GameLiftError):
    code = "InvalidFleetStatusException"


class InvalidGameSessionStatusException(GameLiftError):
    code = "InvalidGameSessionStatusException"


class IdempotentParameterMismatchException(GameLiftError):
    code = "IdempotentParameterMismatchException"


class FleetCapacityExceededException(GameLiftError):
    code = "FleetCapacityExceededException"


class TerminalRoutingStrategyException(GameLiftError):
    code = "TerminalRoutingStrategyException"


class TaggingFailedException(GameLiftError):
    code = "TaggingFailedException"


class GameSessionFullException(GameLiftError):
    code = "GameSessionFullException"


class InternalServiceException(GameLiftError):
    code = "InternalServiceException"
    status = 500
    default_message = "The service encountered an unrecoverable internal failure."


class UnknownOperationException(GameLiftError):
    code = "UnknownOperationException"


class SerializationException(GameLiftError):
    code = "SerializationException"


class MissingAuthenticationTokenException(GameLiftError):
    code = "MissingAuthenticationTokenException"
    status = 403
    default_message = "Missing Authentication Token"


class IncompleteSignatureException(GameLiftError):
    code = "IncompleteSignatureException"


class InvalidSignatureException(GameLiftError):
    code = "InvalidSignatureException"
    default_message = (
        "The request signature we calculated does not match the signature you provided. "
        "Check your AWS Secret Access Key and signing method. "
        "Consult the service documentation for details."
    )


class UnrecognizedClientException(GameLiftError):
    code = "UnrecognizedClientException"
    default_message = "The security token included in the request is invalid."


ERRORS_BY_CODE: dict[str, type[GameLiftError]] = {
    cls.code: cls
    for cls in (
        InvalidRequestException,
        NotFoundException,
        ConflictException,
        LimitExceededException,
        ThrottlingException,
        UnsupportedRegionException,
        UnauthorizedException,
        AccessDeniedException,
        InvalidFleetStatusException,
        InvalidGameSessionStatusException,
        IdempotentParameterMismatchException,
        FleetCapacityExceededException,
        GameSessionFullException,
        TerminalRoutingStrategyException,
        TaggingFailedException,
        InternalServiceException,
        UnknownOperationException,
        SerializationException,
        MissingAuthenticationTokenException,
        IncompleteSignatureException,
        InvalidSignatureException,
        UnrecognizedClientException,
    )
}


def error_for_code(code: str, message: str | None = None) -> GameLiftError:
    """Build the error named ``code`` (for fault injection); unknown codes are a bug."""
    try:
        cls = ERRORS_BY_CODE[code]
    except KeyError:
        raise ValueError(f"unknown GameLift error code: {code}") from None
    return cls(message)
