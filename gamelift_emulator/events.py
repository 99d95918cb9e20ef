"""FlexMatch matchmaking events in their EventBridge shape, kept in order, optionally POSTed.

GameLift emits one event per ticket change
(https://docs.aws.amazon.com/gamelift/latest/flexmatchguide/match-events.html): source
``aws.gamelift``, detail-type ``GameLift Matchmaking Event``, ``resources`` the
configuration ARN, and a ``detail`` with ``type``, ``tickets`` and the fields of that type.
:class:`EventLog` keeps a backend's events oldest first (``GET /_emulator/events``);
:class:`Webhook` POSTs each one, in order, to a loopback URL from a thread of its own so
a slow receiver never holds the backend's lock.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import queue
import threading
import urllib.request
from collections import deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "EVENT_TYPES",
    "EventLog",
    "Webhook",
    "WebhookError",
    "iso_time",
    "matchmaking_event",
]

log = logging.getLogger(__name__)

EVENT_TYPES = (
    "MatchmakingSearching",
    "PotentialMatchCreated",
    "AcceptMatch",
    "AcceptMatchCompleted",
    "MatchmakingSucceeded",
    "MatchmakingTimedOut",
    "MatchmakingCancelled",
    "MatchmakingFailed",
)
MAX_EVENTS = 100_000  # per backend; the oldest are dropped beyond this
Json = dict[str, Any]


def iso_time(epoch: float) -> str:
    """ISO 8601 with milliseconds and ``Z``, as the event examples show (the same text as
    ``datetime.fromtimestamp(epoch, UTC)`` gives, microseconds rounded half to even)."""
    whole = int(epoch)
    micro = round((epoch - whole) * 1e6)
    if micro >= 1_000_000:
        whole, micro = whole + 1, micro - 1_000_000
    return f"{_whole_second(whole)}.{micro // 1000:03d}Z"


@functools.lru_cache(maxsize=64)
def _whole_second(whole: int) -> str:
    """Each event is stamped twice, many in the same second: format that part once."""
    return datetime.fromtimestamp(whole, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def matchmaking_event(
    event_type: str,
    *,
    event_id: str,
    account: str,
    region: str,
    at: float,
    configuration_arn: str,
    tickets: Iterable[Json],
    detail: Mapping[str, Any] | None = None,
) -> Json:
    """One event: the EventBridge envelope around ``detail`` (type and tickets added)."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown FlexMatch event type {event_type}")
    body: Json = {"tickets": list(tickets), "type": event_type}
    body.update(detail or {})
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "GameLift Matchmaking Event",
        "source": "aws.gamelift",
        "account": account,
        "time": iso_time(at),
        "region": region,
        "resources": [configuration_arn],
        "detail": body,
    }


class EventLog:
    """A backend's events, oldest first; forwards each new one to an optional sink."""

    def __init__(self) -> None:
        self._events: deque[Json] = deque(maxlen=MAX_EVENTS)
        self.sink: Webhook | None = None

    def record(self, event: Json) -> None:
        self._events.append(event)
        if self.sink is not None:
            self.sink.post(event)

    def events(self, configuration: str | None = None) -> list[Json]:
        """Every kept event, or those of the configuration with that name (or ARN)."""
        if configuration is None:
            return list(self._events)
        suffix = "matchmakingconfiguration/" + configuration.rsplit("/", 1)[-1]
        return [e for e in self._events if e["resources"][0].endswith(suffix)]


class WebhookError(ValueError):
    """A webhook URL the emulator refuses (not http, or not a loopback address)."""


def _loopback_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise WebhookError(f"webhook url must be http://127.0.0.1:PORT/..., got {url!r}")
    host = parts.hostname
    if host == "localhost":
        return url
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise WebhookError(
            f"webhook url must name a loopback address (127.0.0.1, ::1 or localhost), got {host}"
        ) from None
    if not address.is_loopback:
        raise WebhookError(f"webhook url must be a loopback address, got {host}")
    return url


class Webhook:
    """POSTs events as JSON, one at a time and in order, to one loopback URL."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        self.url = _loopback_url(url)
        self.timeout = timeout
        self.delivered = 0
        self.failed = 0
        self._queue: queue.Queue[Json | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="emulator-webhook", daemon=True)
        self._thread.start()

    def post(self, event: Json) -> None:
        self._queue.put(event)

    def close(self) -> None:
        """Stop after the events already queued were sent."""
        self._queue.put(None)

    def _run(self) -> None:
        while True:
            event = self._queue.get()
            if event is None:
                return
            request = urllib.request.Request(
                self.url,
                data=json.dumps(event).encode(),
                headers={"Content-Type": "application/json", "X-Event-Id": str(event["id"])},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    answer.read()
                self.delivered += 1
            except OSError as error:  # best effort, as EventBridge and SNS deliver
                self.failed += 1
                log.warning("webhook %s refused event %s: %s", self.url, event["id"], error)
