"""The control API, the clock-driven lifecycle, automatic backfill and faults."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from emulator_helpers import PLAYERS

from gamelift_emulator import Emulator, EmulatorControl, ManualClock
from gamelift_emulator.client import EmulatorControlError
from gamelift_emulator.control import ControlAPI
from gamelift_emulator.faults import FaultInjector
from gamelift_emulator.models import BackendStore
from gamelift_emulator.responses import JSON_CONTENT_TYPE, GameLiftResponder, Response
from gamelift_emulator.sigv4 import Identity, SigV4Verifier
from testkit.seeding import seed_configuration


@pytest.fixture
def manual(manual_emulator: Emulator, make_gamelift: Callable[..., Any]) -> tuple[Any, Any]:
    """(boto3 client, control) of the ManualClock emulator."""
    return make_gamelift(manual_emulator.endpoint_url), manual_emulator.control


def _status(gamelift: Any, ticket_id: str) -> str | None:
    tickets = gamelift.describe_matchmaking(TicketIds=[ticket_id])["TicketList"]
    return tickets[0]["Status"] if tickets else None


def test_create_fleet_and_game_session_routes(control: EmulatorControl, gamelift: Any) -> None:
    """POST fleets and game-sessions answer the contract's fields."""
    fleet = control.create_fleet(fleet_id="fleet-abc")
    assert fleet == {
        "fleet_id": "fleet-abc",
        "fleet_arn": "arn:aws:gamelift:us-east-1:123456789012:fleet/fleet-abc",
    }
    seed_configuration(gamelift, backfill_mode="AUTOMATIC")
    session = control.create_game_session("fleet-abc", "cfg", 2, 4)
    (described,) = gamelift.describe_game_sessions(FleetId="fleet-abc")["GameSessions"]
    wire_fields = {k for k in session if k not in {"auto_backfill_ticket_id", "CreationTime"}}
    assert {k: session[k] for k in wire_fields} == {k: described[k] for k in wire_fields}
    assert set(described) == wire_fields | {"CreationTime"}
    assert session["auto_backfill_ticket_id"]
    full = control.create_game_session("fleet-abc", "cfg", 4, 4)
    assert full["auto_backfill_ticket_id"] is None


def test_fleet_region_is_honoured(
    control: EmulatorControl, make_gamelift: Callable[..., Any], emulator: Emulator
) -> None:
    """A control call naming a region acts on that region's state only."""
    control.create_fleet(fleet_id="fleet-west", region="eu-west-1")
    west = make_gamelift(emulator.endpoint_url, region="eu-west-1")
    assert west.describe_game_sessions(FleetId="fleet-west")["GameSessions"] == []
    east = make_gamelift(emulator.endpoint_url)
    with pytest.raises(east.exceptions.NotFoundException):
        east.describe_game_sessions(FleetId="fleet-west")


def test_tickets_route_lists_every_ticket_with_gamelift_names(
    control: EmulatorControl, gamelift: Any
) -> None:
    """GET tickets lists each ticket with TicketId, Status, ConfigurationName, GameSessionArn."""
    seed_configuration(gamelift, backfill_mode="AUTOMATIC")
    fleet_id = control.create_fleet()["fleet_id"]
    session = control.create_game_session(fleet_id, "cfg", 1, 4)
    gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)
    tickets = control.tickets()
    assert len(tickets) == 2
    auto = next(t for t in tickets if t["TicketId"] == session["auto_backfill_ticket_id"])
    assert auto["GameSessionArn"] == session["GameSessionId"]
    assert auto["ConfigurationName"] == "cfg"
    assert auto["Status"] in {"QUEUED", "SEARCHING"}


def test_calls_count_per_operation_since_reset(control: EmulatorControl, gamelift: Any) -> None:
    """GET calls counts GameLift calls per operation, errors included, until reset."""
    gamelift.describe_matchmaking(TicketIds=["a"])
    gamelift.describe_matchmaking(TicketIds=["b"])
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.stop_matchmaking(TicketId="x")
    assert control.calls() == {"DescribeMatchmaking": 2, "StopMatchmaking": 1}
    control.reset()
    assert control.calls() == {}


def test_reset_forgets_state_and_restores_settings(control: EmulatorControl) -> None:
    """Reset drops state, faults and changed settings."""
    defaults = control.settings()
    control.settings(stop_delay_ms=5000, auto_backfill_regenerate=False)
    control.faults(error_rate=1.0)
    control.create_fleet(fleet_id="fleet-gone")
    control.reset()
    assert control.settings() == defaults
    assert control.request("GET", "/faults")["error_rate"] == 0.0
    control.create_fleet(fleet_id="fleet-gone")  # no ConflictException: it was forgotten


def test_bad_control_input_is_400_with_message(control: EmulatorControl) -> None:
    """Malformed or invalid control bodies answer 400 with a clear message."""
    with pytest.raises(EmulatorControlError) as excinfo:
        control.request("POST", "/game-sessions", {"fleet_id": "f"})
    assert excinfo.value.status == 400
    assert "configuration_name" in excinfo.value.message
    with pytest.raises(EmulatorControlError, match="unknown settings"):
        control.request("POST", "/settings", {"nope": 1})
    with pytest.raises(EmulatorControlError, match="error_rate"):
        control.faults(error_rate=2.0)
    with pytest.raises(EmulatorControlError) as excinfo:
        control.request("GET", "/nowhere")
    assert excinfo.value.status == 404


def test_control_api_refuses_non_loopback_clients(emulator: Emulator) -> None:
    """The control API answers 403 to a client that is not on loopback."""
    api: ControlAPI = emulator.control_api
    response = api.handle("POST", "/_emulator/reset", b"{}", "10.1.2.3")
    assert response.status == 403
    assert api.handle("GET", "/_emulator/health", b"", "::1").status == 200


def test_stop_turns_cancelled_after_the_configured_delay(manual: tuple[Any, Any]) -> None:
    """StopMatchmaking is asynchronous: CANCELLED once stop_delay_ms has passed."""
    gamelift, control = manual
    control.settings(stop_delay_ms=500)
    seed_configuration(gamelift)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    control.advance_clock(1)
    assert _status(gamelift, ticket_id) == "SEARCHING"
    gamelift.stop_matchmaking(TicketId=ticket_id)
    assert _status(gamelift, ticket_id) == "SEARCHING"
    control.advance_clock(0.5)
    assert _status(gamelift, ticket_id) == "CANCELLED"


def test_timeout_and_retention(manual: tuple[Any, Any]) -> None:
    """A ticket TIMES_OUT at RequestTimeoutSeconds, then disappears after retention."""
    gamelift, control = manual
    control.settings(retention_s=60)
    seed_configuration(gamelift, timeout_seconds=30)
    ticket_id = gamelift.start_matchmaking(ConfigurationName="cfg", Players=PLAYERS)[
        "MatchmakingTicket"
    ]["TicketId"]
    control.advance_clock(29)
    assert _status(gamelift, ticket_id) == "SEARCHING"
    control.advance_clock(1)
    assert _status(gamelift, ticket_id) == "TIMED_OUT"
    control.advance_clock(60)
    assert _status(gamelift, ticket_id) is None


def test_automatic_backfill_regenerates_after_timeout(
    manual: tuple[Any, Any], manual_clock: ManualClock
) -> None:
    """A timed-out automatic ticket is replaced by a new one, named in MatchmakerData."""
    gamelift, control = manual
    seed_configuration(gamelift, backfill_mode="AUTOMATIC", timeout_seconds=30)
    fleet_id = control.create_fleet()["fleet_id"]
    session = control.create_game_session(fleet_id, "cfg", 2, 4)
    first = session["auto_backfill_ticket_id"]
    manual_clock.advance(31)
    assert _status(gamelift, first) == "TIMED_OUT"
    (described,) = gamelift.describe_game_sessions(FleetId=fleet_id)["GameSessions"]
    second = json.loads(described["MatchmakerData"])["autoBackfillTicketId"]
    assert second != first
    assert _status(gamelift, second) in {"QUEUED", "SEARCHING"}


def test_stopping_automatic_ticket_turns_auto_backfill_off(manual: tuple[Any, Any]) -> None:
    """Stopping the latest automatic ticket ends automatic backfill for that session."""
    gamelift, control = manual
    control.settings(stop_delay_ms=0)
    seed_configuration(gamelift, backfill_mode="AUTOMATIC", timeout_seconds=30)
    fleet_id = control.create_fleet()["fleet_id"]
    ticket_id = control.create_game_session(fleet_id, "cfg", 2, 4)["auto_backfill_ticket_id"]
    gamelift.stop_matchmaking(TicketId=ticket_id)
    control.advance_clock(120)
    active = [t for t in control.tickets() if t["Status"] not in {"CANCELLED", "TIMED_OUT"}]
    assert active == []
    gamelift.delete_matchmaking_configuration(Name="cfg")


def test_clock_advance_needs_a_manual_clock(control: EmulatorControl) -> None:
    """Advancing the system clock is refused with 409."""
    with pytest.raises(EmulatorControlError) as excinfo:
        control.advance_clock(1)
    assert excinfo.value.status == 409


def test_seeded_error_rate_is_reproducible(control: EmulatorControl, gamelift: Any) -> None:
    """The same seed fails the same calls, with the configured codes and statuses."""

    def run() -> list[tuple[str, int]]:
        control.faults(seed=42, error_rate=0.5, error_codes=["InternalServiceException"])
        outcomes = []
        for _ in range(20):
            try:
                gamelift.describe_matchmaking(TicketIds=["a"])
                outcomes.append(("ok", 200))
            except gamelift.exceptions.InternalServiceException as error:
                outcomes.append(("fail", error.response["ResponseMetadata"]["HTTPStatusCode"]))
        return outcomes

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(("fail", 500)) < 20
    assert {status for _, status in first} == {200, 500}


def test_faults_apply_only_to_listed_operations(control: EmulatorControl, gamelift: Any) -> None:
    """With operations given, other operations are untouched; an empty body clears faults."""
    control.faults(
        error_rate=1.0, error_codes=["ThrottlingException"], operations=["StopMatchmaking"]
    )
    assert gamelift.describe_matchmaking(TicketIds=["a"])["TicketList"] == []
    with pytest.raises(gamelift.exceptions.ClientError, match="ThrottlingException"):
        gamelift.stop_matchmaking(TicketId="a")
    control.clear_faults()
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.stop_matchmaking(TicketId="a")


def test_throttle_is_a_token_bucket_per_operation(
    manual: tuple[Any, Any], manual_clock: ManualClock
) -> None:
    """Each operation has its own bucket of `burst` tokens refilled at `rate` per second."""
    gamelift, control = manual
    control.faults(throttle={"rate": 2, "burst": 3})

    def attempt(operation: Callable[[], Any]) -> str:
        try:
            operation()
        except gamelift.exceptions.ClientError as error:
            return str(error.response["Error"]["Code"])
        return "ok"

    describe = lambda: gamelift.describe_matchmaking(TicketIds=["a"])  # noqa: E731
    assert [attempt(describe) for _ in range(4)] == ["ok", "ok", "ok", "ThrottlingException"]
    assert attempt(lambda: gamelift.describe_game_session_queues()) == "ok"
    manual_clock.advance(0.5)
    assert [attempt(describe) for _ in range(2)] == ["ok", "ThrottlingException"]


def test_latency_fault_delays_answers(control: EmulatorControl, gamelift: Any) -> None:
    """latency_ms delays every affected answer by at least that much (a lower bound: a slower
    machine can only add to it)."""
    control.faults(latency_ms=50)
    started = time.perf_counter()
    gamelift.describe_matchmaking(TicketIds=["a"])
    assert time.perf_counter() - started >= 0.05


def test_call_log_lists_calls_in_order_with_ids_and_outcome(
    control: EmulatorControl, gamelift: Any
) -> None:
    """GET call-log gives every GameLift call in arrival order, what it named and its outcome."""
    control.settings(stop_delay_ms=600_000)  # the stopped ticket stays active: delete refused
    seed_configuration(gamelift, backfill_mode="AUTOMATIC")
    control.create_fleet(fleet_id="fleet-log")
    ticket_id = control.create_game_session("fleet-log", "cfg", 2, 4)["auto_backfill_ticket_id"]
    start = control.call_log()[-1]["seq"]

    gamelift.stop_matchmaking(TicketId=ticket_id)
    gamelift.describe_matchmaking(TicketIds=[ticket_id, "gone"])
    with pytest.raises(gamelift.exceptions.NotFoundException):
        gamelift.stop_matchmaking(TicketId="missing")
    with pytest.raises(gamelift.exceptions.InvalidRequestException):
        gamelift.delete_matchmaking_configuration(Name="cfg")

    assert control.call_log(since=start) == [
        {
            "seq": start + 1,
            "operation": "StopMatchmaking",
            "TicketId": ticket_id,
            "status": 200,
            "error": None,
        },
        {
            "seq": start + 2,
            "operation": "DescribeMatchmaking",
            "TicketIds": [ticket_id, "gone"],
            "status": 200,
            "error": None,
        },
        {
            "seq": start + 3,
            "operation": "StopMatchmaking",
            "TicketId": "missing",
            "status": 400,
            "error": "NotFoundException",
        },
        {
            "seq": start + 4,
            "operation": "DeleteMatchmakingConfiguration",
            "Name": "cfg",
            "status": 400,
            "error": "InvalidRequestException",
        },
    ]
    assert [entry["seq"] for entry in control.call_log()] == list(range(1, start + 5))
    assert control.request("GET", "/call-log")["dropped"] == 0
    assert control.calls()["StopMatchmaking"] == 2  # the counters are unchanged
    control.reset()
    assert control.call_log() == []


def test_call_log_records_a_delayed_answer_when_it_is_sent(
    control: EmulatorControl, gamelift: Any
) -> None:
    """A call held by a latency fault is logged on arrival and gets its status when answered."""
    control.faults(latency_ms=50, operations=["DescribeMatchmaking"])
    gamelift.describe_matchmaking(TicketIds=["a"])
    (entry,) = control.call_log()
    assert (entry["operation"], entry["status"], entry["error"]) == (
        "DescribeMatchmaking",
        200,
        None,
    )


def test_call_log_keeps_the_newest_calls_and_counts_the_dropped() -> None:
    """Past its limit the call log keeps the newest calls and says how many it dropped."""

    class _Anyone(SigV4Verifier):
        def verify(self, method: str, path: str, headers: Any, body: bytes) -> Identity:
            return Identity("test", "123456789012", "us-east-1")

    store = BackendStore()
    responder = GameLiftResponder(
        store.backend, _Anyone(), FaultInjector(store.clock), call_log_limit=3
    )
    headers = {"X-Amz-Target": "GameLift.ListFleets", "Content-Type": JSON_CONTENT_TYPE}
    for _ in range(5):
        answer = responder.handle("POST", "/", headers, b"{}")
        assert isinstance(answer, Response)
        assert answer.status == 200
    bad = responder.handle("POST", "/", headers, b"{not json")
    assert isinstance(bad, Response)
    assert bad.status == 400

    log: Any = responder.call_log()
    assert log["dropped"] == 3
    assert [(c["seq"], c["status"], c["error"]) for c in log["calls"]] == [
        (4, 200, None),
        (5, 200, None),
        (6, 400, "SerializationException"),
    ]
    assert responder.calls() == {"ListFleets": 6}


def test_call_log_rejects_a_bad_since(control: EmulatorControl) -> None:
    """A since that is not a sequence number is a 400 naming it."""
    with pytest.raises(EmulatorControlError, match="since"):
        control.request("GET", "/call-log?since=-1")


def test_call_log_keeps_only_a_bounded_part_of_hostile_members(
    control: EmulatorControl, gamelift: Any
) -> None:
    """Overlong IDs and lists are logged cut short, so the call log never holds a request body."""
    long_id = "a" * 5000
    with pytest.raises(gamelift.exceptions.ClientError):
        gamelift.describe_matchmaking(TicketIds=[long_id] * 50)
    (entry,) = control.call_log()
    assert entry["TicketIds"] == ["a" * 256 + "..."] * 10
    assert (entry["status"], entry["error"] is not None) == (400, True)
