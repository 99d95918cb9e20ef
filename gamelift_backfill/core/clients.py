"""GameLift client factory: region and endpoint resolution, retry mode, a per-process cache.

Clients are never held by provider instances (they are pickled into stack state); callers
ask :func:`gamelift_client` each time and get the process's cached client for those
settings. boto3 clients are thread-safe once made; making them is not, hence the lock.
Credentials come only from the standard AWS chain (environment, shared files, SSO, roles).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Literal, cast

import boto3
import botocore.session
from botocore.config import Config
from botocore.configprovider import ConfiguredEndpointProvider

from .errors import Failure, InputError, translate

RetryMode = Literal["standard", "adaptive", "legacy"]
RETRY_MODES: tuple[RetryMode, ...] = ("standard", "adaptive", "legacy")  # botocore's
# Which calls a client makes. Each role has its own client, hence its own adaptive rate
# limiter and retry quota (botocore keeps both per client): GameLift limits each operation
# separately, and throttled StopMatchmaking calls must not slow down the DescribeMatchmaking
# and DescribeGameSessions calls that find and confirm tickets. Measured with a throttle of
# 20 calls/s, burst 40 per operation: one shared client sent 59, 2, 4, 12, 28 stops in the
# drain's first five seconds, because the reads waited on the limiter the stops had cut.
Role = Literal["read", "stop"]

# Adaptive adds botocore's client-side rate limiter (shared by the threads of one cached
# client): measured against the emulator throttled at 20 calls/s, burst 40, a drain of
# 1000 tickets took 50.5 s (floor 48 s) with 26 throttled StopMatchmaking answers in
# adaptive mode, and 53.0 s with 647 throttled answers in standard mode.
DEFAULT_RETRY_MODE: RetryMode = "adaptive"
# Attempts in all, first one included, as AWS_MAX_ATTEMPTS counts them (botocore's
# ``total_max_attempts``). Throttled drains retry a lot: botocore's default of 3 attempts
# would fail a drain that a few more backed-off attempts finish. Standard mode's retry
# quota still bounds the storm.
DEFAULT_MAX_ATTEMPTS = 10
DEFAULT_MAX_CONCURRENCY = 10
CONNECT_TIMEOUT_SECONDS = 5.0
READ_TIMEOUT_SECONDS = 20.0

_lock = threading.Lock()
_clients: dict[tuple[Any, ...], Any] = {}


def resolve_region(explicit: str | None, stack_region: str | None = None) -> str:
    """Region from the input, else stack config ``aws:region``, else environment/profile.

    The environment/profile step is ``AWS_REGION``, then botocore's lookup
    (``AWS_DEFAULT_REGION``, the profile's ``region``).

    Raises InputError naming ``region`` when none of them gives one.
    """
    # botocore reads AWS_DEFAULT_REGION only; AWS_REGION is what the other SDKs and the
    # AWS CLI v2 read first, so it comes before botocore's own lookup.
    for candidate in (explicit, stack_region, os.environ.get("AWS_REGION")):
        if candidate:
            return candidate
    try:
        region = botocore.session.Session().get_config_variable("region")
    except Exception as exc:  # a broken AWS_PROFILE, for one
        raise translate(exc, operation="resolve region") from exc
    if not region:
        # Where a region can be set is each front end's to say (remedy ``set_region``).
        raise InputError([Failure("region", "no region given")], remedies=["set_region"])
    return str(region)


def resolve_endpoint(explicit: str | None) -> str | None:
    """Endpoint from the input, else as botocore configures it, else None (AWS default).

    botocore's own provider is used so precedence stays botocore's:
    ``AWS_ENDPOINT_URL_GAMELIFT`` > ``AWS_ENDPOINT_URL`` > the profile's ``services``
    section > its ``endpoint_url``, all off when ``AWS_IGNORE_CONFIGURED_ENDPOINT_URLS``.
    """
    if explicit:
        return explicit
    session = botocore.session.Session()
    try:
        if session.get_config_variable("ignore_configured_endpoint_urls"):
            return None
        provider = ConfiguredEndpointProvider(
            full_config=session.full_config,
            scoped_config=session.get_scoped_config(),
            client_name="gamelift",
        )
        url = provider.provide()
    except Exception as exc:
        raise translate(exc, operation="resolve endpoint") from exc
    return str(url) if url else None


def retry_settings(
    session: botocore.session.Session,
    retry_mode: RetryMode | None = None,
    max_attempts: int | None = None,
) -> tuple[RetryMode, int]:
    """Retry mode and attempts: the argument, else botocore's own settings, else the defaults.

    botocore's settings are ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS``, else the profile's
    ``retry_mode`` / ``max_attempts``. They are read here because botocore ignores them once
    a Config names the retries. Raises InputError naming a setting botocore would refuse.
    """
    profile = session.get_scoped_config()
    mode = retry_mode or os.environ.get("AWS_RETRY_MODE") or profile.get("retry_mode")
    attempts = max_attempts or os.environ.get("AWS_MAX_ATTEMPTS") or profile.get("max_attempts")
    mode = mode or DEFAULT_RETRY_MODE
    attempts = attempts or DEFAULT_MAX_ATTEMPTS
    failures = []
    if mode not in RETRY_MODES:
        failures.append(Failure("AWS_RETRY_MODE", f"{mode!r} is not one of {RETRY_MODES}"))
    if not str(attempts).isdigit() or int(attempts) < 1:
        failures.append(Failure("AWS_MAX_ATTEMPTS", f"{attempts!r} is not a whole number >= 1"))
    if failures:
        raise InputError(failures)
    return cast(RetryMode, mode), int(attempts)


def client_config(
    retry_mode: RetryMode = DEFAULT_RETRY_MODE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Config:
    """The botocore Config every GameLift client of the core uses."""
    return Config(
        retries={"mode": retry_mode, "total_max_attempts": max_attempts},
        connect_timeout=CONNECT_TIMEOUT_SECONDS,
        read_timeout=READ_TIMEOUT_SECONDS,
        # One connection per worker thread, plus one for the waiter's describes.
        max_pool_connections=max(10, max_concurrency + 1),
        # The endpoint was resolved (and stored) by the caller: ``None`` means AWS itself.
        # Letting botocore read AWS_ENDPOINT_URL* again would send a destroy of an AWS
        # ticket to whatever endpoint that machine's environment names.
        ignore_configured_endpoint_urls=True,
    )


def gamelift_client(
    region: str,
    endpoint_url: str | None,
    *,
    role: Role = "read",
    retry_mode: RetryMode | None = None,
    max_attempts: int | None = None,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Any:
    """The process's GameLift client for these settings and ``role``, made on first use.

    Thread-safe. Retry mode and attempts left ``None`` come from :func:`retry_settings`,
    read when the client is made.
    """
    key = (region, endpoint_url, role, retry_mode, max_attempts, max_concurrency)
    with _lock:
        client = _clients.get(key)
        if client is None:
            try:
                # A session per client: botocore sessions are not safe to share while creating.
                core_session = botocore.session.Session()
                mode, attempts = retry_settings(core_session, retry_mode, max_attempts)
                session = boto3.session.Session(botocore_session=core_session, region_name=region)
                client = session.client(
                    "gamelift",
                    endpoint_url=endpoint_url,
                    config=client_config(mode, attempts, max_concurrency),
                )
            except Exception as exc:  # a broken AWS_PROFILE, an invalid region name
                raise translate(
                    exc, operation="create client", region=region, endpoint_url=endpoint_url
                ) from exc
            _clients[key] = client
        return client


def clear_client_cache() -> None:
    """Forget every cached client (tests that change credentials, long-lived processes)."""
    with _lock:
        _clients.clear()
