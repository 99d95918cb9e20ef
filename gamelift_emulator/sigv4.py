"""SigV4 verification of incoming requests.

The emulator recomputes the signature exactly as a client computes it (the canonical
request over the headers the client says it signed), so a client that signs with the
wrong secret, an unknown key or another service is rejected the way AWS rejects it, and
a client that signs correctly is accepted whatever SDK it is. Every call is verified,
so the common request (``POST /``, a signed ``host``) takes a lean path with the signing
key cached per day, Region and secret; anything unusual (a query string, no signed
``host``, a header botocore never signs) is canonicalised by botocore's own signer.

Raises (``gamelift_emulator.exceptions``, as AWS's awsJson services answer):

* ``MissingAuthenticationTokenException`` (403): no ``Authorization`` header.
* ``IncompleteSignatureException`` (400): the header is not a well-formed
  ``AWS4-HMAC-SHA256`` one, or ``X-Amz-Date`` is missing.
* ``UnrecognizedClientException`` (400): unknown access key.
* ``InvalidSignatureException`` (400): wrong secret (AWS's message), wrong service in
  the scope, a request signed too long ago (clock skew), or signed headers from which
  no canonical request can be built (a ``Host`` of ``[``).
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import hmac
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from botocore.auth import SIGNED_HEADERS_BLACKLIST, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gamelift_emulator.exceptions import (
    IncompleteSignatureException,
    InvalidSignatureException,
    MissingAuthenticationTokenException,
    UnrecognizedClientException,
)

SERVICE = "gamelift"
DEFAULT_ACCOUNT_ID = "123456789012"
DEFAULT_CREDENTIALS: dict[str, tuple[str, str]] = {"test": ("test", DEFAULT_ACCOUNT_ID)}
# AWS refuses requests whose X-Amz-Date is more than 15 minutes off its own clock.
MAX_SKEW_SECONDS = 15 * 60

_HEX_DIGITS = "0123456789abcdefABCDEF"
_DATE_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$")
_UNSIGNED = frozenset(SIGNED_HEADERS_BLACKLIST)
_SIGNING_KEYS_MAX = 256
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256\s+"
    r"Credential=(?P<credential>[^,\s]+)\s*,\s*"
    r"SignedHeaders=(?P<signed>[^,\s]+)\s*,\s*"
    r"Signature=(?P<signature>[0-9a-fA-F]+)\s*$"
)


class Headers(Protocol):
    """Case-insensitive request headers (``http.client.HTTPMessage`` is one)."""

    def get(self, name: str, /) -> str | None:
        """The header's value, or None."""
        ...


@dataclass(frozen=True)
class Identity:
    """Who signed a request: the account the key belongs to and the scope's region."""

    access_key: str
    account_id: str
    region: str


@dataclass(frozen=True)
class _Scope:
    """What an ``Authorization`` header says before its signature, checked once."""

    identity: Identity
    secret: str
    date: str
    unknown_key: bool
    wrong_service: bool
    names: tuple[str, ...]  # signed headers, sorted
    joined: str
    lean: bool  # the common request: canonicalised here, not by botocore


class SigV4Verifier:
    """Verifies SigV4 against a table ``access key -> (secret, account id)``."""

    def __init__(
        self,
        credentials: Mapping[str, tuple[str, str]] | None = None,
        max_skew_seconds: float = MAX_SKEW_SECONDS,
    ) -> None:
        self.credentials = dict(credentials or DEFAULT_CREDENTIALS)
        self.max_skew_seconds = max_skew_seconds
        self._signing_keys: dict[tuple[str, str, str], hmac.HMAC] = {}
        self._scopes: dict[str, _Scope] = {}  # by the Authorization header's head
        self._last_date: tuple[str, float] = ("", 0.0)  # X-Amz-Date parsed last

    @property
    def default_account_id(self) -> str:
        """The account of the first configured key: the one control calls act on."""
        return next(iter(self.credentials.values()))[1]

    def verify(self, method: str, path: str, headers: Headers, body: bytes) -> Identity:
        """Check the request's signature; return who signed it.

        ``headers`` must be case-insensitive (``http.client.HTTPMessage`` is).
        """
        authorization = headers.get("Authorization")
        if not authorization:
            raise MissingAuthenticationTokenException()
        text = authorization.strip()
        head, marker, signature = text.rpartition("Signature=")
        if marker and signature and not signature.strip(_HEX_DIGITS):
            # A client signs every call in one scope: the head is parsed once per scope.
            scope = self._scopes.get(head)
            if scope is None:
                scope = self._parse_scope(f"{head}Signature=0", authorization)
                if len(self._scopes) >= _SIGNING_KEYS_MAX:
                    self._scopes.clear()
                self._scopes[head] = scope
        else:
            scope = self._parse_scope(text, authorization)  # not well-formed: raises
        amz_date = headers.get("X-Amz-Date")
        if not amz_date:
            raise IncompleteSignatureException(
                "Authorization header requires existence of either a 'X-Amz-Date' or a "
                "'Date' header."
            )
        if scope.unknown_key:
            raise UnrecognizedClientException()
        if scope.wrong_service:
            raise InvalidSignatureException(
                f"Credential should be scoped to correct service: '{SERVICE}'."
            )
        if amz_date[:8] != scope.date:
            raise InvalidSignatureException(
                f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version "
                f"of date from HTTP: '{scope.date}' != '{amz_date[:8]}', from '{amz_date}'."
            )
        self._check_skew(amz_date)
        try:
            expected = self._signature(method, path, headers, body, scope, amz_date)
        except ValueError as error:  # e.g. a Host header that no URL can hold
            raise InvalidSignatureException(
                f"The canonical request cannot be built from the signed headers: {error}"
            ) from None
        if not hmac.compare_digest(expected, signature.lower()):
            raise InvalidSignatureException()
        return scope.identity

    def _parse_scope(self, text: str, authorization: str) -> _Scope:
        """The scope a well-formed ``Authorization`` header names (IncompleteSignature if
        it is not well-formed); the access key and service are judged later, in order."""
        match = _AUTH_RE.match(text)
        if match is None:
            raise IncompleteSignatureException(
                "Authorization header requires 'Credential', 'SignedHeaders' and "
                f"'Signature' parameters of an AWS4-HMAC-SHA256 signature: {authorization!r}"
            )
        parts = match["credential"].split("/")
        if len(parts) != 5 or parts[4] != "aws4_request":
            raise IncompleteSignatureException(
                f"Credential should be scoped to a valid region, not '{match['credential']}'."
            )
        access_key, date, region, service, _ = parts
        secret, account_id = self.credentials.get(access_key, ("", ""))
        names, joined, lean = _signed_names(match["signed"])
        return _Scope(
            identity=Identity(access_key=access_key, account_id=account_id, region=region),
            secret=secret,
            date=date,
            unknown_key=access_key not in self.credentials,
            wrong_service=service != SERVICE,
            names=names,
            joined=joined,
            lean=lean,
        )

    def _check_skew(self, amz_date: str) -> None:
        last, signed_at = self._last_date
        if amz_date != last:  # clients sign many calls within one second
            signed_at = self._parse_date(amz_date)
            self._last_date = (amz_date, signed_at)
        if abs(time.time() - signed_at) > self.max_skew_seconds:
            raise InvalidSignatureException(
                f"Signature expired: {amz_date} is now earlier or later than the "
                "emulator's clock allows (15 min)."
            )

    @staticmethod
    def _parse_date(amz_date: str) -> float:
        match = _DATE_RE.match(amz_date)
        try:
            if match is None:
                raise ValueError(amz_date)
            year, month, day, hour, minute, second = (int(part) for part in match.groups())
            signed_at = datetime.datetime(
                year, month, day, hour, minute, second, tzinfo=datetime.UTC
            ).timestamp()
        except ValueError:
            raise IncompleteSignatureException(
                f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'."
            ) from None
        return signed_at

    def _signature(
        self,
        method: str,
        path: str,
        headers: Headers,
        body: bytes,
        scope: _Scope,
        amz_date: str,
    ) -> str:
        identity = scope.identity
        if path != "/" or not scope.lean:
            return _botocore_signature(
                method,
                path,
                headers,
                body,
                list(scope.names),
                amz_date,
                identity.region,
                identity.access_key,
                scope.secret,
            )
        values = {name: " ".join((headers.get(name) or "").split()) for name in scope.names}
        payload_hash = hashlib.sha256(body).hexdigest()
        declared = values.get("x-amz-content-sha256")
        if declared is not None and declared != payload_hash:
            raise InvalidSignatureException(
                "The provided 'x-amz-content-sha256' header does not match what was computed."
            )
        canonical_headers = "".join(f"{name}:{value}\n" for name, value in values.items())
        canonical = f"{method.upper()}\n/\n\n{canonical_headers}\n{scope.joined}\n{payload_hash}"
        date = amz_date[:8]
        string_to_sign = (
            f"AWS4-HMAC-SHA256\n{amz_date}\n{date}/{identity.region}/{SERVICE}/aws4_request\n"
            + hashlib.sha256(canonical.encode("utf-8")).hexdigest()
        )
        signer = self._signing_key(scope.secret, date, identity.region).copy()
        signer.update(string_to_sign.encode("utf-8"))
        return signer.hexdigest()

    def _signing_key(self, secret: str, date: str, region: str) -> hmac.HMAC:
        """An HMAC keyed with the derived key of one secret, day and Region (derived once,
        then copied per request: cheaper than keying a new one)."""
        cached = self._signing_keys.get((secret, date, region))
        if cached is not None:
            return cached
        key = f"AWS4{secret}".encode()
        for part in (date, region, SERVICE, "aws4_request"):
            key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
        if len(self._signing_keys) >= _SIGNING_KEYS_MAX:
            self._signing_keys.clear()
        signer = self._signing_keys[(secret, date, region)] = hmac.new(key, None, hashlib.sha256)
        return signer


@functools.lru_cache(maxsize=64)
def _signed_names(signed_headers: str) -> tuple[tuple[str, ...], str, bool]:
    """The signed header names sorted, joined, and whether the lean path can take them
    (a client signs the same list on every call, so this is computed once per list)."""
    names = tuple(sorted({n for n in signed_headers.lower().split(";") if n}))
    lean = "host" in names and _UNSIGNED.isdisjoint(names)
    return names, ";".join(names), lean


def _botocore_signature(
    method: str,
    path: str,
    headers: Headers,
    body: bytes,
    names: list[str],
    amz_date: str,
    region: str,
    access_key: str,
    secret: str,
) -> str:
    """The signature as botocore's signer computes it, for the uncommon requests."""
    request = AWSRequest(
        method=method,
        url=f"http://{headers.get('Host') or ''}{path}",
        headers={n: headers.get(n) or "" for n in names},
        data=body,
    )
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, secret), SERVICE, region)
    canonical = signer.canonical_request(request)
    result: str = signer.signature(signer.string_to_sign(request, canonical), request)
    return result
