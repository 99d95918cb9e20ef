"""``EmulatorControl``: a small stdlib client of the ``/_emulator/`` control API.

For tests, benchmarks and the demo: one method per route, JSON in and out, no
dependency beyond the standard library, safe to share between threads (one short
HTTP connection per call).

    control = EmulatorControl("http://127.0.0.1:8080")
    control.reset()
    fleet = control.create_fleet()
    session = control.create_game_session(fleet["fleet_id"], "my-config", 2, 4)
    control.set_ticket_status(session["auto_backfill_ticket_id"], "PLACING")

Raises ``EmulatorControlError`` (status and message of the answer) for any non-2xx
answer, and ``OSError`` when the emulator cannot be reached.
"""

from __future__ import annotations

import http.client
import json
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from gamelift_emulator.settings import setting_names


class EmulatorControlError(Exception):
    """The control API answered with an error status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status
        self.message = message


class EmulatorControl:
    """Client of one emulator's control API."""

    def __init__(self, endpoint_url: str, timeout: float = 30.0) -> None:
        parts = urlsplit(endpoint_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"expected http://host:port, got {endpoint_url!r}")
        self.endpoint_url = endpoint_url.rstrip("/")
        self._host = parts.hostname
        self._port = parts.port or 80
        self.timeout = timeout

    def request(self, method: str, route: str, body: dict[str, Any] | None = None) -> Any:
        """Call ``/_emulator<route>``; return the decoded JSON answer."""
        payload = json.dumps(body).encode() if body is not None else b""
        connection = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
        try:
            connection.request(
                method,
                "/_emulator" + route,
                body=payload,
                headers={"Content-Type": "application/json"},
            )
            response = connection.getresponse()
            raw = response.read()
        finally:
            connection.close()
        try:
            data = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            data = None
        if not 200 <= response.status < 300:
            message = data.get("error") if isinstance(data, dict) else None
            raise EmulatorControlError(response.status, message or raw.decode(errors="replace"))
        return data

    # ---- routes -------------------------------------------------------------

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "region", "account_id"}``; a readiness probe."""
        result: dict[str, Any] = self.request("GET", "/health")
        return result

    def reset(self) -> None:
        """Forget all state, counters and faults; restore the initial settings."""
        self.request("POST", "/reset", {})

    def create_fleet(
        self,
        fleet_id: str | None = None,
        region: str | None = None,
        locations: list[str] | None = None,
    ) -> dict[str, str]:
        """Create a fleet (ACTIVE); return ``{"fleet_id", "fleet_arn"}``."""
        body = _without_none(fleet_id=fleet_id, region=region, locations=locations)
        result: dict[str, str] = self.request("POST", "/fleets", body)
        return result

    def delete_fleet(self, fleet_id: str, region: str | None = None) -> None:
        """Delete a fleet and its game sessions."""
        query = f"?{urlencode({'region': region})}" if region else ""
        self.request("DELETE", f"/fleets/{quote(fleet_id, safe='')}{query}")

    def create_game_session(
        self,
        fleet_id: str,
        configuration_name: str,
        player_count: int,
        max_players: int,
        region: str | None = None,
        location: str | None = None,
    ) -> dict[str, Any]:
        """Seed a matchmade game session; the GameSession plus ``auto_backfill_ticket_id``."""
        body = _without_none(
            fleet_id=fleet_id,
            configuration_name=configuration_name,
            player_count=player_count,
            max_players=max_players,
            region=region,
            location=location,
        )
        result: dict[str, Any] = self.request("POST", "/game-sessions", body)
        return result

    def terminate_game_session(self, game_session_arn: str, region: str | None = None) -> None:
        """End a game session (its backfill tickets end with it)."""
        route = f"/game-sessions/{quote(game_session_arn, safe='')}/terminate"
        self.request("POST", route, _without_none(region=region))

    def set_ticket_status(
        self, ticket_id: str, status: str, region: str | None = None
    ) -> dict[str, Any]:
        """Force a ticket into ``status`` (e.g. PLACING, COMPLETED)."""
        route = f"/tickets/{quote(ticket_id, safe='')}/status"
        result: dict[str, Any] = self.request(
            "POST", route, _without_none(status=status, region=region)
        )
        return result

    def settings(self, **changes: float | bool | None) -> dict[str, Any]:
        """Change the given settings (``None``: left as it is); return all settings in force.

        The names and meanings are the fields of ``settings.EmulatorSettings`` (e.g.
        ``stop_delay_ms``, ``auto_backfill_delay_ms``, ``seed``); a name not declared
        there is a TypeError here, before any call.
        """
        unknown = sorted(set(changes) - set(setting_names()))
        if unknown:
            raise TypeError(f"unknown settings {unknown}; known: {setting_names()}")
        result: dict[str, Any] = self.request("POST", "/settings", _without_none(**changes))
        return result

    def faults(
        self,
        seed: int | None = None,
        latency_ms: float | None = None,
        error_rate: float | None = None,
        error_codes: list[str] | None = None,
        throttle: dict[str, float] | None = None,
        operations: list[str] | None = None,
    ) -> dict[str, Any]:
        """Replace the fault configuration (no argument clears it); return it."""
        body = _without_none(
            seed=seed,
            latency_ms=latency_ms,
            error_rate=error_rate,
            error_codes=error_codes,
            throttle=throttle,
            operations=operations,
        )
        result: dict[str, Any] = self.request("POST", "/faults", body)
        return result

    def clear_faults(self) -> None:
        """Inject nothing from now on."""
        self.request("POST", "/faults", {})

    def calls(self) -> dict[str, int]:
        """GameLift calls per operation since the last reset."""
        result: dict[str, int] = self.request("GET", "/calls")
        return result

    def call_log(self, since: int = 0) -> list[dict[str, Any]]:
        """The GameLift calls since the last reset (after sequence number ``since``), in
        the order they arrived: ``{"seq", "operation", the IDs the call names, "status",
        "error"}`` each (see ``control``'s ``GET /_emulator/call-log``)."""
        query = f"?{urlencode({'since': since})}" if since else ""
        result: dict[str, Any] = self.request("GET", f"/call-log{query}")
        entries: list[dict[str, Any]] = result["calls"]
        return entries

    def tickets(self, region: str | None = None) -> list[dict[str, Any]]:
        """Every ticket (active and retained final ones) with GameLift's field names."""
        query = f"?{urlencode({'region': region})}" if region else ""
        result: list[dict[str, Any]] = self.request("GET", f"/tickets{query}")
        return result

    def events(
        self, configuration: str | None = None, region: str | None = None
    ) -> list[dict[str, Any]]:
        """FlexMatch events (EventBridge shape), oldest first, of one configuration or all."""
        query = urlencode(_without_none(configuration=configuration, region=region))
        result: list[dict[str, Any]] = self.request(
            "GET", "/events" + (f"?{query}" if query else "")
        )
        return result

    def webhook(self, url: str | None) -> dict[str, Any]:
        """POST every new event to ``url`` (a loopback http URL), or stop with None."""
        result: dict[str, Any] = self.request("POST", "/webhook", {"url": url})
        return result

    def clock(self) -> float:
        """The emulator's current time (epoch seconds)."""
        return float(self.request("GET", "/clock")["now"])

    def advance_clock(self, seconds: float) -> float:
        """Move a ManualClock forward; return the new time (409 on the system clock)."""
        return float(self.request("POST", "/clock/advance", {"seconds": seconds})["now"])


def _without_none(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}
