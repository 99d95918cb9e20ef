"""Seeded fault injection: latency, random errors, per-operation throttling.

Real GameLift is slow sometimes, fails sometimes, and rate-limits every API per
account with token buckets. Code that drains thousands of tickets must cope with all
three, so the emulator can produce them on demand, reproducibly (``seed``).

Configuration (the body of ``POST /_emulator/faults``; every key optional, an empty
body clears every fault)::

    {"seed": 7, "latency_ms": 20, "error_rate": 0.1,
     "error_codes": ["InternalServiceException", "ThrottlingException"],
     "throttle": {"rate": 5, "burst": 10}, "operations": ["StopMatchmaking"]}

* ``latency_ms``: every affected call waits that long before it is answered.
* ``error_rate`` in [0, 1]: that share of affected calls fails with one of
  ``error_codes`` (default ``["InternalServiceException"]``), drawn from a
  ``random.Random(seed)``.
* ``throttle``: one token bucket *per operation* (AWS limits each API separately),
  ``burst`` tokens, refilled at ``rate`` per second of the injected clock; a call that
  finds its bucket empty fails with ``ThrottlingException`` "Rate exceeded".
* ``operations``: the operations faults apply to; absent or empty means all.

Raises ``FaultConfigError`` (a ``ValueError``) for a bad configuration, and a
``GameLiftError`` of the drawn code from ``before_call`` for an injected failure
(the status is the error class's: InternalServiceException 500, others 400).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gamelift_emulator.clock import Clock, SystemClock
from gamelift_emulator.exceptions import ERRORS_BY_CODE, ThrottlingException, error_for_code

_KEYS = {"seed", "latency_ms", "error_rate", "error_codes", "throttle", "operations"}


class FaultConfigError(ValueError):
    """The fault configuration is malformed (the control API answers 400)."""


@dataclass
class FaultConfig:
    """A validated fault configuration; the defaults inject nothing."""

    seed: int | None = None
    latency_ms: float = 0.0
    error_rate: float = 0.0
    error_codes: list[str] = field(default_factory=lambda: ["InternalServiceException"])
    throttle_rate: float | None = None
    throttle_burst: float | None = None
    operations: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, body: Mapping[str, Any]) -> FaultConfig:
        """Build a configuration from the control API's JSON body."""
        unknown = set(body) - _KEYS
        if unknown:
            raise FaultConfigError(f"unknown fault keys {sorted(unknown)}; known: {sorted(_KEYS)}")
        config = cls()
        seed = body.get("seed")
        if seed is not None:
            if isinstance(seed, bool) or not isinstance(seed, int):
                raise FaultConfigError("seed must be an integer")
            config.seed = seed
        config.latency_ms = _number(body, "latency_ms", 0.0, low=0.0)
        config.error_rate = _number(body, "error_rate", 0.0, low=0.0, high=1.0)
        codes = body.get("error_codes")
        if codes is not None:
            if (
                not isinstance(codes, list)
                or not codes
                or not all(isinstance(c, str) and c for c in codes)
            ):
                raise FaultConfigError("error_codes must be a non-empty list of error codes")
            unknown_codes = [c for c in codes if c not in ERRORS_BY_CODE]
            if unknown_codes:
                raise FaultConfigError(
                    f"unknown error codes {unknown_codes}; known: {sorted(ERRORS_BY_CODE)}"
                )
            config.error_codes = list(codes)
        throttle = body.get("throttle")
        if throttle is not None:
            if not isinstance(throttle, dict) or "rate" not in throttle:
                raise FaultConfigError('throttle must be an object {"rate": n, "burst": n}')
            config.throttle_rate = _number(throttle, "rate", 0.0, low=0.0)
            config.throttle_burst = _number(throttle, "burst", 1.0, low=1.0)
        operations = body.get("operations")
        if operations is not None:
            if not isinstance(operations, list) or not all(isinstance(o, str) for o in operations):
                raise FaultConfigError("operations must be a list of operation names")
            config.operations = frozenset(operations)
        return config

    def as_json(self) -> dict[str, Any]:
        """The configuration as the control API reports it."""
        throttle = (
            None
            if self.throttle_rate is None
            else {"rate": self.throttle_rate, "burst": self.throttle_burst}
        )
        return {
            "seed": self.seed,
            "latency_ms": self.latency_ms,
            "error_rate": self.error_rate,
            "error_codes": self.error_codes,
            "throttle": throttle,
            "operations": sorted(self.operations),
        }


def _number(
    body: Mapping[str, Any], key: str, default: float, low: float, high: float | None = None
) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FaultConfigError(f"{key} must be a number")
    if value < low or (high is not None and value > high):
        bounds = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise FaultConfigError(f"{key} must be {bounds}, got {value}")
    return float(value)


@dataclass
class _Bucket:
    tokens: float
    updated: float


class FaultInjector:
    """Applies the current fault configuration to each call; thread-safe."""

    def __init__(
        self, clock: Clock | None = None, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep
        self._lock = threading.Lock()
        self._config = FaultConfig()
        self._random = random.Random()
        self._buckets: dict[str, _Bucket] = {}

    @property
    def config(self) -> FaultConfig:
        """The configuration in force."""
        return self._config

    def configure(self, body: Mapping[str, Any]) -> FaultConfig:
        """Replace the configuration (an empty body clears all faults); refill buckets."""
        config = FaultConfig.parse(body)
        with self._lock:
            self._config = config
            self._random = random.Random(config.seed)
            self._buckets = {}
        return config

    def clear(self) -> None:
        """Inject nothing from now on."""
        self.configure({})

    def before_call(self, operation: str) -> None:
        """Delay (by sleeping), throttle or fail ``operation`` as configured.

        Raises:
            ThrottlingException: the operation's token bucket is empty.
            GameLiftError: the call is drawn to fail (one of ``error_codes``).
        """
        delay = self.latency(operation)
        if delay:
            self._sleep(delay)
        self.after_latency(operation)

    def latency(self, operation: str) -> float:
        """Seconds ``operation`` waits before it is answered (the server awaits them)."""
        config = self._config
        if config.operations and operation not in config.operations:
            return 0.0
        return config.latency_ms / 1000.0

    def after_latency(self, operation: str) -> None:
        """Throttle or fail ``operation`` as configured (``before_call`` without the wait).

        Raises:
            ThrottlingException: the operation's token bucket is empty.
            GameLiftError: the call is drawn to fail (one of ``error_codes``).
        """
        config = self._config
        if config.throttle_rate is None and not config.error_rate:
            return  # nothing to inject (the common case: no lock taken)
        if config.operations and operation not in config.operations:
            return
        with self._lock:
            if config is not self._config:  # reconfigured while we slept
                return
            if config.throttle_rate is not None and not self._take_token(operation, config):
                raise ThrottlingException("Rate exceeded")
            if config.error_rate and self._random.random() < config.error_rate:
                code = self._random.choice(config.error_codes)
                raise error_for_code(code, f"Injected fault ({code}) for {operation}")

    def _take_token(self, operation: str, config: FaultConfig) -> bool:
        now = self._clock.now()
        burst = config.throttle_burst or 1.0
        bucket = self._buckets.get(operation)
        if bucket is None:
            bucket = self._buckets[operation] = _Bucket(tokens=burst, updated=now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(burst, bucket.tokens + elapsed * (config.throttle_rate or 0.0))
        bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False
