"""BackfillGuardProvider called directly (no plugin) against the shared emulator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.output import Unknown

from gamelift_backfill.backfill_guard import BackfillGuardArgs, BackfillGuardProvider
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_backfill.core.errors import AuthError, InputError, StopTimeoutError
from gamelift_emulator import Emulator, EmulatorControl
from testkit.world import REGION, World, make_world

UNKNOWN = Unknown()  # type: ignore[no-untyped-call]  # the value the plugin hands over


@pytest.fixture
def world(
    control: EmulatorControl, gamelift: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[World]:
    """A fleet on the reset emulator; test credentials from the environment only."""
    yield make_world(control, gamelift)
    clear_client_cache()  # no client with this test's credentials outlives it


def provider(stack_region: str | None = REGION) -> BackfillGuardProvider:
    """A provider configured as the plugin configures it (the stack's whole config)."""
    guard = BackfillGuardProvider()
    config = {"aws:region": stack_region} if stack_region else {}
    guard.configure(ConfigureRequest(Config(config, "gamelift-backfill")))
    return guard


def props(emulator: Emulator, world: World, **overrides: Any) -> dict[str, Any]:
    """Checked inputs as the engine hands them over (numbers as floats)."""
    args = BackfillGuardArgs(
        fleet_ids=[world.fleet_id], endpoint_url=emulator.endpoint_url, stop_timeout_seconds=60
    )
    bag = {**args.to_props(), "stop_timeout_seconds": 60.0, **overrides}
    checked = provider().check({}, bag)
    assert checked.failures == []
    return checked.inputs


def test_check_normalises_numbers_and_fills_defaults() -> None:
    """Whole floats from gRPC become ints; timeout and concurrency get their defaults."""
    checked = provider().check({}, {"fleet_ids": ["fleet-1"], "max_concurrency": 4.0})
    assert checked.failures == []
    assert checked.inputs["max_concurrency"] == 4
    assert isinstance(checked.inputs["max_concurrency"], int)
    assert checked.inputs["stop_timeout_seconds"] == 900


def test_check_names_each_bad_property() -> None:
    """Every invalid input is reported against its own property, offline."""
    checked = provider().check(
        {},
        {
            "fleet_ids": ["fleet-1", "not a fleet"],
            "configuration_name": "bad name!",
            "ticket_ids": ["x" * 200],
            "region": "us east",
            "endpoint_url": "http://gamelift.example.com",
            "stop_timeout_seconds": 0.0,
            "max_concurrency": 2.5,
        },
    )
    assert {f.property for f in checked.failures} == {
        "fleet_ids[1]",
        "configuration_name",
        "ticket_ids[0]",
        "region",
        "endpoint_url",
        "stop_timeout_seconds",
        "max_concurrency",
    }


@pytest.mark.parametrize("fleet_ids", [None, []])
def test_check_requires_a_fleet(fleet_ids: Any) -> None:
    """A guard without fleets guards nothing: fleet_ids must be a non-empty list."""
    checked = provider().check({}, {"fleet_ids": fleet_ids})
    assert [f.property for f in checked.failures] == ["fleet_ids"]


def test_check_lets_unknowns_pass() -> None:
    """Preview values not yet known pass unchecked and come back unknown."""
    news = {"fleet_ids": UNKNOWN, "region": UNKNOWN, "ticket_ids": ["t-1", UNKNOWN]}
    checked = provider().check({}, news)
    assert checked.failures == []
    assert isinstance(checked.inputs["fleet_ids"], Unknown)
    assert isinstance(checked.inputs["region"], Unknown)


def test_create_resolves_and_stores_region_endpoint_and_count(
    emulator: Emulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Region from aws:region and endpoint from AWS_ENDPOINT_URL_GAMELIFT are stored; nothing
    is stopped."""
    world.tickets(3)
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", emulator.endpoint_url)
    created = provider().create(props(emulator, world, endpoint_url=None))
    assert created.outs is not None
    assert created.outs["region"] == REGION
    assert created.outs["endpoint_url"] == emulator.endpoint_url
    assert created.outs["active_ticket_count"] == 3
    assert created.outs["stop_timeout_seconds"] == 60
    assert world.control.calls().get("StopMatchmaking", 0) == 0
    assert len(world.active_tickets()) == 3


def test_create_rejects_a_remote_http_endpoint_from_the_environment(
    emulator: Emulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The endpoint rule applies to AWS_ENDPOINT_URL too: no signed request in clear text."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://gamelift.example.com")
    with pytest.raises(InputError) as raised:
        provider().create(props(emulator, world, endpoint_url=None))
    assert raised.value.fields == ["endpoint_url"]


def test_create_tolerates_and_logs_a_missing_fleet(
    emulator: Emulator, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fleet that does not exist is logged, and the others are counted."""
    world.tickets(2)
    inputs = props(emulator, world, fleet_ids=["fleet-missing", world.fleet_id])
    created = provider().create(inputs)
    assert created.outs is not None
    assert created.outs["active_ticket_count"] == 2
    assert "fleet fleet-missing not found" in capsys.readouterr().err


def test_create_with_a_wrong_secret_is_an_auth_error(
    emulator: Emulator, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refused credentials fail the create with AUTH_ERROR and what to check."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong")
    with pytest.raises(AuthError, match="credentials"):
        provider().create(props(emulator, world))


def test_diff_ignores_provider_and_floats_and_order(emulator: Emulator, world: World) -> None:
    """Stored outputs against the same inputs (floats, another __provider, reordered) is no
    change."""
    guard = provider()
    other = world.control.create_fleet()["fleet_id"]
    inputs = props(emulator, world, fleet_ids=[world.fleet_id, other])
    stored = {**guard.create(inputs).outs, "__provider": "old"}  # type: ignore[dict-item]
    news = {
        **inputs,
        "fleet_ids": [other, world.fleet_id],
        "max_concurrency": 10.0,
        "__provider": "new",
    }
    diff = guard.diff("id", stored, news)
    assert diff.changes is False
    assert diff.replaces == []


def test_diff_replaces_on_region_only(emulator: Emulator, world: World) -> None:
    """A region change (explicit, or unknown in preview) replaces; other changes are in
    place."""
    guard = provider()
    inputs = props(emulator, world)
    stored = guard.create(inputs).outs or {}
    in_place = guard.diff(
        "id", stored, {**inputs, "stop_timeout_seconds": 120, "ticket_ids": ["t"]}
    )
    moved = guard.diff("id", stored, {**inputs, "region": "us-west-2"})
    unknown = guard.diff("id", stored, {**inputs, "region": UNKNOWN})
    assert (in_place.changes, in_place.replaces) == (True, [])
    assert (moved.changes, moved.replaces) == (True, ["region"])
    assert unknown.replaces == ["region"]


def test_diff_follows_the_stack_region_when_region_is_not_set(
    emulator: Emulator, world: World
) -> None:
    """Without a region input, the region resolved now (aws:region) is what diff compares."""
    stored = provider().create(props(emulator, world)).outs or {}
    news = props(emulator, world)
    assert provider(REGION).diff("id", stored, news).replaces == []
    assert provider("eu-west-1").diff("id", stored, news).replaces == ["region"]


def test_update_returns_every_output(emulator: Emulator, world: World) -> None:
    """Update in place returns all outputs (region kept, count refreshed), not just changes."""
    guard = provider()
    inputs = props(emulator, world)
    stored = guard.create(inputs).outs or {}
    world.tickets(2)
    updated = guard.update("id", stored, {**inputs, "max_concurrency": 4.0}).outs or {}
    assert updated["region"] == REGION
    assert updated["max_concurrency"] == 4
    assert updated["active_ticket_count"] == 2
    assert set(updated) >= {"fleet_ids", "endpoint_url", "stop_timeout_seconds"}


def test_read_refreshes_the_count_with_stored_settings(emulator: Emulator, world: World) -> None:
    """Refresh counts again in the stored region, even under another stack region."""
    stored = provider().create(props(emulator, world)).outs or {}
    world.tickets(4)
    read = provider("eu-west-1").read("guard-1", stored)
    assert read.id == "guard-1"
    assert (read.outs or {})["active_ticket_count"] == 4
    assert (read.outs or {})["region"] == REGION


def test_delete_drains_and_logs_progress_without_player_ids(
    emulator: Emulator, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """Delete stops every active ticket, the configuration is deletable, logs hold counts."""
    tickets = world.tickets(25)
    stored = provider().create(props(emulator, world)).outs or {}
    assert not world.deletable()
    provider().delete("guard-1", stored)
    assert world.active_tickets() == []
    assert {world.status(t) for t in tickets} == {"CANCELLED"}
    assert world.deletable()
    err = capsys.readouterr().err
    assert "25 active backfill ticket(s) found, 25 stopped" in err
    assert "0 remaining" in err
    assert not any(player in err for player in world.player_ids())


def test_delete_timeout_names_tickets_and_next_delete_finishes(
    emulator: Emulator, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    """A ticket stuck in PLACING fails delete naming it; once it ends, delete succeeds."""
    stuck, other = world.tickets(2)
    world.control.set_ticket_status(stuck, "PLACING")
    stored = provider().create(props(emulator, world, stop_timeout_seconds=1.0)).outs or {}
    with pytest.raises(StopTimeoutError) as raised:
        provider().delete("guard-1", stored)
    assert stuck in raised.value.message
    assert "1 backfill ticket(s) still active" in raised.value.message
    assert "1 ticket(s) remaining" in capsys.readouterr().err
    assert world.status(other) == "CANCELLED"

    world.control.set_ticket_status(stuck, "FAILED")  # the placement ended meanwhile
    provider().delete("guard-1", stored)
    assert world.active_tickets() == []
