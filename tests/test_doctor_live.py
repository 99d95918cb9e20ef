"""`doctor --live` against the emulator: which tickets hold each guarded configuration, which
can be stopped now and which must be waited out, and whether its delete would be refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from doctor_helpers import export, guard, run_cli, ticket, write

from gamelift_backfill.core.tickets import stop_and_wait
from gamelift_backfill.doctor.live import targets, where_to_ask
from gamelift_backfill.doctor.state import parse_export
from gamelift_backfill.translate import ProviderConfig, stored_where
from gamelift_emulator import Emulator, EmulatorControl
from testkit.world import REGION, World, make_world

READ_ONLY = {"DescribeGameSessions", "DescribeMatchmaking"}


@pytest.fixture
def world(control: EmulatorControl, gamelift: Any) -> World:
    """A fleet and an AUTOMATIC configuration `cfg` on the shared (reset) emulator."""
    world = make_world(control, gamelift)
    world.configuration("cfg", backfill_mode="AUTOMATIC")
    return world


def _state(tmp_path: Path, world: World, emulator: Emulator, *extra: dict[str, Any]) -> Path:
    """A stack holding a guard over the world's fleet and `cfg`, pinned to the emulator."""
    pinned = {"region": REGION, "endpoint_url": emulator.endpoint_url}
    protector = guard(fleet_ids=[world.fleet_id], configuration_name="cfg", **pinned)
    return write(tmp_path, export(protector, *extra))


def _live(capsys: pytest.CaptureFixture[str], path: Path, *options: str) -> tuple[int, Any]:
    code, out, err = run_cli(capsys, "doctor", str(path), "--live", "--json", *options)
    assert "Traceback" not in out + err
    return code, json.loads(out)


def test_active_tickets_holding_the_configuration_are_listed(
    world: World,
    emulator: Emulator,
    control: EmulatorControl,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Automatic tickets on the guard's fleet: each listed, stoppable now, delete refused."""
    held = world.tickets(3)
    before = control.calls()
    code, envelope = _live(capsys, _state(tmp_path, world, emulator))
    assert code == 8
    (finding,) = envelope["data"]["findings"]
    assert finding["rule"] == "tickets-hold-configuration"
    assert {t["ticket_id"] for t in finding["details"]["active"]} == set(held)
    assert all(t["can_stop_now"] for t in finding["details"]["active"])
    assert finding["details"]["delete_configuration_refused"] is True
    assert "gamelift-backfill drain --fleet-id" in finding["fix"]
    called = {op for op, n in control.calls().items() if n > before.get(op, 0)}
    assert called == READ_ONLY  # read calls only, both within the IAM policy
    assert sorted(world.active_tickets("cfg")) == sorted(held)  # nothing was stopped
    assert not world.deletable("cfg")  # the emulator agrees: the delete is refused now


def test_placing_tickets_must_be_waited_out(
    world: World,
    emulator: Emulator,
    control: EmulatorControl,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A PLACING ticket is reported as one to wait out; the others can be stopped now."""
    placing, searching = world.tickets(2)
    control.set_ticket_status(placing, "PLACING")
    adopted = world.tickets(1)[0]  # also held by a BackfillTicket of the stack
    pinned = {"region": REGION, "endpoint_url": emulator.endpoint_url}
    path = _state(
        tmp_path, world, emulator, ticket(ticket_id=adopted, configuration_name="cfg", **pinned)
    )
    code, envelope = _live(capsys, path)
    assert code == 8
    (finding,) = envelope["data"]["findings"]
    by_id = {t["ticket_id"]: t for t in finding["details"]["active"]}
    assert by_id[placing] == {"ticket_id": placing, "status": "PLACING", "can_stop_now": False}
    assert by_id[searching]["can_stop_now"] is True
    assert set(by_id) == {placing, searching, adopted}
    assert f"gamelift-backfill status {placing}" in finding["fix"]
    assert "2 can be stopped now, 1 must be waited out" in finding["at_destroy"]


def test_clean_environment_has_nothing_to_fix(
    world: World, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No active ticket: exit 0, and the live report says the delete would go through."""
    (stopped,) = world.tickets(1)
    stop_and_wait(world.gamelift, [stopped])  # until CANCELLED; ends automatic backfill there
    world.control.create_game_session(world.fleet_id, "cfg", 8, 8, region=REGION)  # full
    pinned = {"region": REGION, "endpoint_url": emulator.endpoint_url}
    adopted = ticket(ticket_id=stopped, configuration_name="cfg", **pinned)
    code, envelope = _live(capsys, _state(tmp_path, world, emulator, adopted))
    assert code == 0, envelope
    (report,) = envelope["data"]["live"]
    assert report["active"] == []
    assert report["delete_configuration_refused"] is False
    assert report["tickets_checked"] == 1
    assert world.deletable("cfg")


def test_region_and_endpoint_options_override_the_state(
    world: World, emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--region/--endpoint-url are used when the state pins none (or another)."""
    world.tickets(1)
    path = write(tmp_path, export(guard(fleet_ids=[world.fleet_id], configuration_name="cfg")))
    code, envelope = _live(
        capsys, path, "--region", REGION, "--endpoint-url", emulator.endpoint_url
    )
    assert code == 8
    assert envelope["data"]["findings"][0]["rule"] == "tickets-hold-configuration"


def test_a_remote_plain_http_endpoint_in_the_state_is_never_called(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A state pinning http:// to a remote host: reported unchecked, no request sent."""
    protector = guard(fleet_ids=["fleet-1"], region=REGION, endpoint_url="http://169.254.169.254")
    code, envelope = _live(capsys, write(tmp_path, export(protector)))
    assert code == 8
    (finding,) = envelope["data"]["findings"]
    assert finding["rule"] == "live-unchecked"
    assert "169.254.169.254" in finding["at_destroy"]


def test_an_unreachable_endpoint_is_a_finding_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing listening at the pinned endpoint: a live-unchecked finding naming the error."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # one refused connection is enough to know
    protector = guard(fleet_ids=["fleet-1"], region=REGION, endpoint_url="http://127.0.0.1:9")
    code, envelope = _live(capsys, write(tmp_path, export(protector)))
    assert code == 8
    (finding,) = envelope["data"]["findings"]
    assert finding["rule"] == "live-unchecked"
    assert "CONNECTION_ERROR" in finding["at_destroy"]


def test_where_to_ask_is_where_destroy_goes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A guard stored with no endpoint (AWS itself) is asked at AWS, as its destroy would
    (translate.stored_where), never at the AWS_ENDPOINT_URL_GAMELIFT of this machine."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    stored = guard(fleet_ids=["fleet-1"], region=REGION, configuration_name="cfg")
    stack = parse_export(json.dumps(export(stored)).encode())
    (target,), unchecked = targets(stack, None, None)
    assert unchecked == []
    destroy = stored_where({"region": REGION, "endpoint_url": None}, ProviderConfig())
    assert (target.region, target.endpoint) == (destroy.region, destroy.endpoint_url)
    assert (target.region, target.endpoint) == (REGION, None)
    (resource,) = stack.of_kind("guard")
    overridden = where_to_ask(resource, "us-west-2", "http://127.0.0.1:7")
    assert (overridden.region, overridden.endpoint_url) == ("us-west-2", "http://127.0.0.1:7")
