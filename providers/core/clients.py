"""GameLift client factory: region and endpoint resolution, retry mode, a per-process cache.

Clients are never held by provider instances (they are pickled into stack state); callers
ask :func:`gamelift_client` each time and get the process's cached client for those
settings. boto3 clients are thread-safe once made; making them is not, hence the lock.
Credentials come only from the standard AWS chain (environment, shared files, SSO, roles).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Literal

import boto3
import botocore.session
from botocore.config import Config
from botocore.configprovider import ConfiguredEndpointProvider

from .errors import Failure, InputError, translate

RetryMode = Literal["standard", "adaptive"]

# Adaptive adds botocore's client-side rate limiter (shared by the threads of one cached
# client): measured against the emulator throttled at 20 calls/s, burst 40, a drain of
# 1000 tickets took 50.5 s (floor 48 s) with 26 throttled StopMatchmaking answers in
# adaptive mode, and 53.0 s with 647 throttled answers in standard mode.
DEFAULT_RETRY_MODE: RetryMode = "adaptive"
# Throttled drains retry a lot: botocore's default of 3 attempts would fail a drain that a
# few more backed-off attempts finish. Standard mode's retry quota still bounds the storm.
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
        raise InputError(
            [
                Failure(
                    "region",
                    "no region given: set the `region` input, the stack config `aws:region`, "
                    "or AWS_REGION / the profile's region",
                )
            ]
        )
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


def client_config(
    retry_mode: RetryMode = DEFAULT_RETRY_MODE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Config:
    """The botocore Config every GameLift client of the core uses."""
    return Config(
        retries={"mode": retry_mode, "max_attempts": max_attempts},
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
    retry_mode: RetryMode = DEFAULT_RETRY_MODE,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
) -> Any:
    """The process's GameLift client for these settings, made on first use (thread-safe)."""
    key = (region, endpoint_url, retry_mode, max_attempts, max_concurrency)
    with _lock:
        client = _clients.get(key)
        if client is None:
            try:
                # A session per client: botocore sessions are not safe to share while creating.
                session = boto3.session.Session(region_name=region)
                client = session.client(
                    "gamelift",
                    endpoint_url=endpoint_url,
                    config=client_config(retry_mode, max_attempts, max_concurrency),
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
