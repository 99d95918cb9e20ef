"""The ``/_emulator/`` control API: seed state, force ticket states, faults, counters.

Same port as the GameLift API, plain JSON, no SigV4, loopback clients only (others get
403). Control calls act on the default account (the first configured access key's)
and the emulator's default region, unless the body (or, for GETs, the query string)
names a ``region``. Bad input answers 400 ``{"error": "..."}``; an error of the
GameLift state machine answers its own status with ``{"error", "code"}``.

Routes (**contract**: acceptance checks use the first eight)::

    POST   /_emulator/reset                      state, counters, faults, settings
    POST   /_emulator/fleets                     {"fleet_id"?, "region"?, "locations"?}
                                                 -> {"fleet_id", "fleet_arn"}
    POST   /_emulator/game-sessions              {"fleet_id", "configuration_name",
                                                  "player_count", "max_players",
                                                  "region"?, "location"?}
                                                 -> GameSession + "auto_backfill_ticket_id"
    POST   /_emulator/tickets/<ticket_id>/status {"status": "PLACING" | ...}
    POST   /_emulator/settings                   any field of ``settings.EmulatorSettings``
                                                 (declared there once, with its meaning);
                                                 numbers finite and >= 0, flags true/false;
                                                 a bad value answers 400 naming the field;
                                                 -> all settings
    POST   /_emulator/faults                     see ``faults``; empty body clears
    GET    /_emulator/calls                      {"<Operation>": count} since reset
    GET    /_emulator/tickets                    [ticket, ...] with GameLift's names
    ---- added for tests, benchmarks and the demo ----
    GET    /_emulator/health                     {"status": "ok", "region", "account_id"}
    GET    /_emulator/settings                   the settings in force
    GET    /_emulator/faults                     the fault configuration in force
    DELETE /_emulator/fleets/<fleet_id>          {"region"?} (query string for DELETE)
    POST   /_emulator/game-sessions/<arn>/terminate   (the ARN URL-encoded)
    POST   /_emulator/clock/advance              {"seconds"} -> {"now"}; only when the
                                                 emulator runs on a ManualClock (else 409)
    GET    /_emulator/clock                      {"now"}
    GET    /_emulator/events                     FlexMatch events in EventBridge shape, oldest
                                                 first; ?configuration=NAME filters (contract)
    POST   /_emulator/webhook                    {"url": "http://127.0.0.1:PORT/..." | null}:
                                                 POST every new event there (loopback only)
    GET    /_emulator/webhook                    {"url", "delivered", "failed"}
    GET    /_emulator/call-log                   {"calls": [entry, ...], "dropped": n}: the
                                                 GameLift calls since reset in the order they
                                                 arrived; ?since=SEQ gives those after SEQ.
                                                 entry: {"seq", "operation", the request's
                                                 Name / ConfigurationName / TicketId /
                                                 TicketIds / GameSessionArn / GameSessionId /
                                                 FleetId / AliasId if present, "status" (HTTP,
                                                 null while pending), "error" (GameLift's code
                                                 or null)}, strings cut at 256 characters
                                                 and lists at 10 items; the newest 10,000
                                                 are kept, "dropped" counts older ones

The replacement gap (``auto_backfill_delay_ms``, ``auto_backfill_delay_jitter_ms``): when a
game session's backfill ticket ends on its own (COMPLETED after a match, TIMED_OUT, FAILED)
and the session is still ACTIVE, not full, of a configuration in AUTOMATIC mode, with
automatic backfill not turned off, GameLift starts a new automatic ticket for it. AWS does
not document how long after; the emulator starts it ``auto_backfill_delay_ms`` later plus
a random part, uniform in [0, ``auto_backfill_delay_jitter_ms``], drawn from a generator
seeded by ``seed`` (same seed, same calls: same delays). Both 0 (the default): at once, as
before. The delay runs on the emulator's clock (``POST /_emulator/clock/advance`` on a
ManualClock; on the system clock the lifecycle timer starts it unasked). Until it starts,
MatchmakerData's ``autoBackfillTicketId`` still names the ended ticket; then it names the
new one. Whether the session still wants one is judged when it falls due: StopMatchmaking of
the session's automatic ticket turns automatic backfill off for that session for good, and
UpdateMatchmakingConfiguration to BackfillMode MANUAL stops every new automatic ticket of the
configuration, replacements already scheduled included (they stay dropped if the mode goes
back to AUTOMATIC; tickets already running are not cancelled). AWS documents neither the
delay nor what a change of mode does to tickets already running or scheduled.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import logging
import re
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from gamelift_emulator.clock import Clock
from gamelift_emulator.events import WebhookError
from gamelift_emulator.exceptions import GameLiftError
from gamelift_emulator.faults import FaultConfigError, FaultInjector
from gamelift_emulator.models import BackendStore, GameLiftBackend
from gamelift_emulator.responses import GameLiftResponder, Response, json_response, new_request_id

log = logging.getLogger(__name__)

PREFIX = "/_emulator"
_TICKET_STATUS = re.compile(r"^/tickets/(?P<ticket_id>[^/]+)/status$")
_TERMINATE = re.compile(r"^/game-sessions/(?P<arn>.+)/terminate$")
_FLEET = re.compile(r"^/fleets/(?P<fleet_id>[^/]+)$")


class ControlError(Exception):
    """Bad control input: answered with ``status`` and ``{"error": message}``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class _Request:
    """A parsed control request: JSON body and query parameters."""

    def __init__(self, body: dict[str, Any], query: dict[str, str]) -> None:
        self.body = body
        self.query = query

    def region(self) -> str | None:
        value = self.body.get("region", self.query.get("region"))
        if value is not None and not (isinstance(value, str) and value):
            raise ControlError("region must be a non-empty string")
        return value

    def string(self, key: str, required: bool = True) -> str | None:
        value = self.body.get(key)
        if value is None:
            if required:
                raise ControlError(f"missing required field {key!r}")
            return None
        if not isinstance(value, str) or not value:
            raise ControlError(f"{key!r} must be a non-empty string")
        return value

    def required(self, key: str) -> str:
        """A required non-empty string member."""
        value = self.string(key)
        assert value is not None  # string() raised for a missing required member
        return value

    def integer(self, key: str, low: int = 0) -> int:
        value = self.body.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ControlError(f"{key!r} must be an integer")
        if value < low:
            raise ControlError(f"{key!r} must be >= {low}, got {value}")
        return value


_Route = Callable[["ControlAPI", _Request, dict[str, str]], object]


class ControlAPI:
    """Answers ``/_emulator/...`` requests; knows the store, faults and counters."""

    def __init__(
        self,
        store: BackendStore,
        responder: GameLiftResponder,
        faults: FaultInjector,
        clock: Clock,
        account_id: str,
        region: str,
    ) -> None:
        self.store = store
        self.responder = responder
        self.faults = faults
        self.clock = clock
        self.account_id = account_id
        self.region = region
        self._lock = threading.Lock()

    def handle(self, method: str, path: str, body: bytes, client_host: str) -> Response:
        """Answer one control request; never raises."""
        request_id = new_request_id()
        try:
            if not _is_loopback(client_host):
                raise ControlError("the control API answers loopback clients only", 403)
            parts = urlsplit(path)
            route = parts.path[len(PREFIX) :].rstrip("/") or "/"
            request = _Request(_parse(body), {k: v[-1] for k, v in parse_qs(parts.query).items()})
            handler, params = self._route(method, route)
            result = handler(self, request, params)
            return json_response(200, result, request_id)
        except ControlError as error:
            return json_response(error.status, {"error": error.message}, request_id)
        except FaultConfigError as error:
            return json_response(400, {"error": str(error)}, request_id)
        except GameLiftError as error:
            payload = {"error": error.message, "code": error.code}
            return json_response(error.status, payload, request_id)
        except Exception as error:
            log.exception("control API failure, request id %s", request_id)
            message = f"internal error in the control API (request id {request_id}): {error!r}"
            return json_response(500, {"error": message}, request_id)

    def _route(self, method: str, route: str) -> tuple[_Route, dict[str, str]]:
        exact = _ROUTES.get((method, route))
        if exact is not None:
            return exact, {}
        for pattern, verb, handler in _PATTERN_ROUTES:
            match = pattern.match(route)
            if match and verb == method:
                return handler, {k: unquote(v) for k, v in match.groupdict().items()}
        known = sorted({f"{m} {PREFIX}{r}" for m, r in _ROUTES})
        raise ControlError(f"no control route {method} {PREFIX}{route}; routes: {known}", 404)

    def _backend(self, request: _Request) -> GameLiftBackend:
        return self.store.backend(self.account_id, request.region() or self.region)

    # ---- routes -------------------------------------------------------------

    def health(self, request: _Request, params: dict[str, str]) -> object:
        return {"status": "ok", "region": self.region, "account_id": self.account_id}

    def reset(self, request: _Request, params: dict[str, str]) -> object:
        with self._lock:
            self.store.reset()
            self.faults.clear()
            self.responder.reset_calls()
        return {}

    def create_fleet(self, request: _Request, params: dict[str, str]) -> object:
        locations = request.body.get("locations")
        if locations is not None and not (
            isinstance(locations, list) and all(isinstance(x, str) for x in locations)
        ):
            raise ControlError("'locations' must be a list of region names")
        result = self._backend(request).seed_fleet(
            fleet_id=request.string("fleet_id", required=False), locations=locations
        )
        return _fleet_json(result)

    def delete_fleet(self, request: _Request, params: dict[str, str]) -> object:
        self._backend(request).remove_fleet(params["fleet_id"])
        return {}

    def create_game_session(self, request: _Request, params: dict[str, str]) -> object:
        fleet_id = request.required("fleet_id")
        configuration_name = request.required("configuration_name")
        player_count = request.integer("player_count")
        max_players = request.integer("max_players", low=1)
        if player_count > max_players:
            raise ControlError(f"player_count {player_count} exceeds max_players {max_players}")
        session = self._backend(request).seed_game_session(
            fleet_id=fleet_id,
            configuration_name=configuration_name,
            player_count=player_count,
            max_players=max_players,
            location=request.string("location", required=False),
        )
        ticket_id = session.get("auto_backfill_ticket_id") or _auto_backfill_ticket_id(session)
        return {**session, "auto_backfill_ticket_id": ticket_id}

    def terminate_game_session(self, request: _Request, params: dict[str, str]) -> object:
        self._backend(request).end_game_session(params["arn"])
        return {}

    def set_ticket_status(self, request: _Request, params: dict[str, str]) -> object:
        status = request.required("status")
        result = self._backend(request).force_ticket_status(params["ticket_id"], status)
        return result if isinstance(result, dict) else {"TicketId": params["ticket_id"]}

    def get_settings(self, request: _Request, params: dict[str, str]) -> object:
        return dataclasses.asdict(self.store.settings)

    def set_settings(self, request: _Request, params: dict[str, str]) -> object:
        return dataclasses.asdict(self.store.update_settings(request.body))

    def get_faults(self, request: _Request, params: dict[str, str]) -> object:
        return self.faults.config.as_json()

    def set_faults(self, request: _Request, params: dict[str, str]) -> object:
        return self.faults.configure(request.body).as_json()

    def calls(self, request: _Request, params: dict[str, str]) -> object:
        return self.responder.calls()

    def call_log(self, request: _Request, params: dict[str, str]) -> object:
        since = request.query.get("since", "0")
        if not since.isdigit():
            raise ControlError(f"since must be a call's sequence number (>= 0), got {since!r}")
        return self.responder.call_log(int(since))

    def tickets(self, request: _Request, params: dict[str, str]) -> object:
        return self._backend(request).list_tickets()

    def events(self, request: _Request, params: dict[str, str]) -> object:
        configuration = request.query.get("configuration")
        return self._backend(request).matchmaking_events(configuration or None)

    def get_webhook(self, request: _Request, params: dict[str, str]) -> object:
        return self.store.webhook_status()

    def set_webhook(self, request: _Request, params: dict[str, str]) -> object:
        if "url" not in request.body:
            raise ControlError("missing required field 'url' (null turns the webhook off)")
        url = request.body["url"]
        if url is not None and not isinstance(url, str):
            raise ControlError("'url' must be a string or null")
        try:
            self.store.set_webhook(url)
        except WebhookError as error:
            raise ControlError(str(error)) from None
        return self.store.webhook_status()

    def get_clock(self, request: _Request, params: dict[str, str]) -> object:
        return {"now": self.clock.now()}

    def advance_clock(self, request: _Request, params: dict[str, str]) -> object:
        advance = getattr(self.clock, "advance", None)
        if advance is None:
            raise ControlError("the emulator runs on the system clock; it cannot advance", 409)
        seconds = request.body.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ControlError("'seconds' must be a number >= 0")
        return {"now": advance(float(seconds))}


_ROUTES: dict[tuple[str, str], _Route] = {
    ("GET", "/health"): ControlAPI.health,
    ("POST", "/reset"): ControlAPI.reset,
    ("POST", "/fleets"): ControlAPI.create_fleet,
    ("POST", "/game-sessions"): ControlAPI.create_game_session,
    ("GET", "/settings"): ControlAPI.get_settings,
    ("POST", "/settings"): ControlAPI.set_settings,
    ("GET", "/faults"): ControlAPI.get_faults,
    ("POST", "/faults"): ControlAPI.set_faults,
    ("GET", "/calls"): ControlAPI.calls,
    ("GET", "/call-log"): ControlAPI.call_log,
    ("GET", "/tickets"): ControlAPI.tickets,
    ("GET", "/events"): ControlAPI.events,
    ("GET", "/webhook"): ControlAPI.get_webhook,
    ("POST", "/webhook"): ControlAPI.set_webhook,
    ("GET", "/clock"): ControlAPI.get_clock,
    ("POST", "/clock/advance"): ControlAPI.advance_clock,
}
_PATTERN_ROUTES: list[tuple[re.Pattern[str], str, _Route]] = [
    (_TICKET_STATUS, "POST", ControlAPI.set_ticket_status),
    (_TERMINATE, "POST", ControlAPI.terminate_game_session),
    (_FLEET, "DELETE", ControlAPI.delete_fleet),
]


def _is_loopback(host: str) -> bool:
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return bool(address.is_loopback or (mapped is not None and mapped.is_loopback))


def _parse(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    try:
        value = json.loads(body, parse_constant=_reject_constant)
    except RecursionError:
        raise ControlError("body is nested too deeply") from None
    except ValueError as error:  # not JSON, not UTF-8, or an integer of > 4300 digits
        raise ControlError(f"body is not valid JSON: {error}") from None
    if not isinstance(value, dict):
        raise ControlError("body must be a JSON object")
    return value


def _reject_constant(name: str) -> object:
    raise ControlError(f"body is not valid JSON: {name} is not a number")


def _fleet_json(result: object) -> dict[str, Any]:
    if isinstance(result, dict):
        fleet_id = result.get("FleetId", result.get("fleet_id"))
        fleet_arn = result.get("FleetArn", result.get("fleet_arn"))
        return {"fleet_id": fleet_id, "fleet_arn": fleet_arn}
    raise TypeError(f"create_fleet returned {result!r}, expected the fleet as a dict")


def _auto_backfill_ticket_id(session: dict[str, Any]) -> str | None:
    raw = session.get("MatchmakerData")
    if not raw:
        return None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError:
        return None
    ticket_id = data.get("autoBackfillTicketId") if isinstance(data, dict) else None
    return ticket_id if isinstance(ticket_id, str) and ticket_id else None
