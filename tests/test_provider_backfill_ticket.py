"""BackfillTicketProvider called directly (no plugin) against the emulator over real boto3."""

from __future__ import annotations

import base64
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from backfill_ticket_helpers import EXPLICIT_PLAYERS, seed
from conftest import gamelift_client
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from gamelift_backfill.backfill_ticket import (
    DEFAULT_TIMEOUT,
    INPUT_NAMES,
    OUTPUT_NAMES,
    BackfillTicketArgs,
    BackfillTicketProvider,
)
from gamelift_backfill.core.clients import clear_client_cache
from gamelift_backfill.core.errors import (
    AuthError,
    InputError,
    NotFoundError,
    ServiceError,
    StopTimeoutError,
)
from gamelift_backfill.translate import stored_where
from gamelift_emulator import Emulator, EmulatorControl
from testkit.world import World


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, emulator: Emulator) -> None:
    """Test credentials, the emulator as endpoint through the environment, no region."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", emulator.endpoint_url)
    clear_client_cache()


@pytest.fixture
def world(gamelift: Any, control: EmulatorControl) -> World:
    return seed(gamelift, control)


def configured(region: str | None = "us-east-1") -> BackfillTicketProvider:
    """A provider as the plugin makes it: unpickled, then configured with the stack config."""
    provider = BackfillTicketProvider()
    raw = {"aws:region": region} if region else {}
    provider.configure(ConfigureRequest(Config(raw_config=raw, project_name="gamelift-backfill")))
    return provider


def unknown() -> Any:
    """The SDK's Unknown, as the plugin hands it to check and diff during preview."""
    return Unknown()  # type: ignore[no-untyped-call]


def props(**inputs: Any) -> dict[str, Any]:
    """The property bag a program registers (every name, None where not given)."""
    return {**BackfillTicketArgs(**inputs).to_props(), "__provider": "serialized-provider"}


def checked(provider: BackfillTicketProvider, **inputs: Any) -> dict[str, Any]:
    result = provider.check({}, props(**inputs))
    assert [(f.property, f.reason) for f in result.failures] == []
    return result.inputs


def failures(provider: BackfillTicketProvider, **inputs: Any) -> dict[str, str]:
    return {f.property: f.reason for f in provider.check({}, props(**inputs)).failures}


def start(provider: BackfillTicketProvider, session: dict[str, Any], **inputs: Any) -> Any:
    return provider.create(
        checked(
            provider, configuration_name="cfg", game_session_arn=session["GameSessionId"], **inputs
        )
    )


# -- configure and pickling ----------------------------------------------------------------


def test_provider_pickles_by_reference_with_no_instance_state() -> None:
    """A program's provider pickles as a bare reference to the contract class: nothing else."""
    provider = BackfillTicketProvider()
    pickled = base64.b64decode(serialize_provider(provider))
    assert vars(provider) == {}
    assert b"gamelift_backfill.backfill_ticket" in pickled
    assert b"BackfillTicketProvider" in pickled


# -- check ---------------------------------------------------------------------------------


def test_check_normalises_and_resolves(world: World, emulator: Emulator) -> None:
    """Floats become ints, the timeout defaults, region and endpoint are resolved offline."""
    session = world.session()
    before = world.control.calls()
    players = [{**EXPLICIT_PLAYERS[0], "LatencyInMs": {"us-east-1": 40.0}}]
    inputs = checked(
        configured("eu-west-1"),
        configuration_name="cfg",
        game_session_arn=session["GameSessionId"],
        players=players,
    )
    assert inputs == {
        "configuration_name": "cfg",
        "game_session_arn": session["GameSessionId"],
        "players": EXPLICIT_PLAYERS,
        "region": "eu-west-1",
        "endpoint_url": emulator.endpoint_url,
        "stop_timeout_seconds": DEFAULT_TIMEOUT,
    }
    assert isinstance(inputs["players"][0]["LatencyInMs"]["us-east-1"], int)
    assert (
        checked(configured(), ticket_id="t-1", stop_timeout_seconds=60.0)["stop_timeout_seconds"]
        == 60
    )
    assert world.control.calls() == before


def test_check_failures_name_property_and_reason() -> None:
    """Each bad input is reported under its own name with the reason, all at once."""
    found = failures(
        configured(),
        configuration_name="cfg",
        players=[{"PlayerId": "p", "PlayerAttributes": {"skill": {"N": 1, "S": "x"}}}],
        ticket_id="bad ticket id!",
        endpoint_url="http://gamelift.example.com",
        stop_timeout_seconds=0,
    )
    assert set(found) == {
        "players[0].PlayerAttributes.skill",
        "ticket_id",
        "endpoint_url",
        "stop_timeout_seconds",
    }
    assert "exactly one of" in found["players[0].PlayerAttributes.skill"]
    assert "pattern" in found["ticket_id"]
    assert "https://" in found["endpoint_url"]
    assert "between" in found["stop_timeout_seconds"]


@pytest.mark.parametrize(
    ("inputs", "field", "reason"),
    [
        ({}, "ticket_id", "ticket_id alone to adopt"),
        ({"configuration_name": "cfg"}, "ticket_id", "nothing to create"),
        ({"game_session_arn": "arn:aws:gamelift:x"}, "configuration_name", "is required"),
        ({"players": EXPLICIT_PLAYERS}, "configuration_name", "is required"),
    ],
)
def test_check_requires_one_creation_mode(inputs: dict[str, Any], field: str, reason: str) -> None:
    """Without a way to create (start or adopt), check says which input is missing."""
    assert reason in failures(configured(), **inputs)[field]


def test_check_accepts_both_modes_and_a_chosen_id() -> None:
    """Start (with or without a chosen ID) and adopt (ID alone, configuration optional) pass."""
    provider = configured()
    checked(provider, configuration_name="cfg", players=EXPLICIT_PLAYERS)
    checked(provider, configuration_name="cfg", game_session_arn="arn:x", ticket_id="t-1")
    checked(provider, ticket_id="t-1")
    checked(provider, ticket_id="t-1", configuration_name="cfg")


def test_check_lets_unknowns_pass_even_nested() -> None:
    """Preview values not known yet are neither validated nor resolved, at any depth."""
    provider = configured()
    player = {"PlayerId": unknown(), "PlayerAttributes": {"skill": {"N": unknown()}}}
    inputs = checked(
        provider,
        configuration_name=unknown(),
        game_session_arn=unknown(),
        players=[player],
        region=unknown(),
        endpoint_url=unknown(),
        stop_timeout_seconds=unknown(),
    )
    assert isinstance(inputs["region"], Unknown)
    assert isinstance(inputs["stop_timeout_seconds"], Unknown)
    assert isinstance(inputs["players"][0]["PlayerId"], Unknown)
    checked(provider, ticket_id=unknown())


def test_check_rejects_a_clear_text_endpoint_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An http:// endpoint to a remote host is refused even when it comes from the env."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://gamelift.example.com")
    reason = failures(configured(), ticket_id="t-1")["endpoint_url"]
    assert "AWS_ENDPOINT_URL_GAMELIFT" in reason


def test_check_region_falls_back_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a region input or aws:region, AWS_REGION gives the region."""
    monkeypatch.setenv("AWS_REGION", "ap-northeast-1")
    assert checked(configured(None), ticket_id="t-1")["region"] == "ap-northeast-1"


def test_check_reports_a_missing_region() -> None:
    """No input, no aws:region and no environment region: check fails on `region`."""
    assert "aws:region" in failures(configured(None), ticket_id="t-1")["region"]


# -- create --------------------------------------------------------------------------------


def test_create_starts_with_players_derived_from_matchmaker_data(
    world: World, emulator: Emulator
) -> None:
    """Players come from MatchmakerData; ID and every output are stored, region included."""
    session = world.session()
    created = start(configured(), session)
    outs = created.outs
    assert set(outs) == set(INPUT_NAMES) | set(OUTPUT_NAMES)
    assert created.id == outs["ticket_id"]
    assert world.status(created.id) in ("QUEUED", "SEARCHING")
    assert outs["players"] == world.players_of(created.id)
    assert [p["Team"] for p in outs["players"]] == ["red", "blue"]
    assert outs["region"] == "us-east-1"
    assert outs["endpoint_url"] == emulator.endpoint_url
    assert outs["stop_timeout_seconds"] == DEFAULT_TIMEOUT
    assert outs["configuration_arn"] == world.configuration_arn
    assert outs["status"] == "QUEUED"
    assert datetime.fromisoformat(outs["start_time"]).tzinfo is not None


def test_create_starts_with_explicit_players_and_chosen_id(world: World) -> None:
    """Given players and ticket_id are used as is; floats from gRPC are accepted."""
    session = world.session()
    players = [{**EXPLICIT_PLAYERS[0], "LatencyInMs": {"us-east-1": 40.0}}]
    created = start(
        configured(), session, players=players, ticket_id="chosen-1", stop_timeout_seconds=30.0
    )
    assert created.id == "chosen-1"
    assert created.outs["players"] == EXPLICIT_PLAYERS
    assert created.outs["stop_timeout_seconds"] == 30
    assert world.players_of("chosen-1")[0]["PlayerId"] == "secret-player-7f3a"


def test_create_adopts_an_automatic_ticket_without_starting_one(world: World) -> None:
    """ticket_id alone records the existing ticket after DescribeMatchmaking shows it."""
    ticket_id = world.session("auto")["auto_backfill_ticket_id"]
    created: Any = configured().create(checked(configured(), ticket_id=ticket_id))
    assert created.id == ticket_id
    assert created.outs["configuration_name"] == "auto"
    assert created.outs["status"] in ("QUEUED", "SEARCHING")
    assert created.outs["players"]
    assert "StartMatchBackfill" not in world.control.calls()


def test_adopting_an_unknown_ticket_is_not_found(world: World) -> None:
    """Adoption of a ticket GameLift does not know fails NOT_FOUND, naming the ticket."""
    with pytest.raises(NotFoundError, match="cannot adopt backfill ticket ghost-1"):
        configured().create(checked(configured(), ticket_id="ghost-1"))


def test_adopting_with_another_configuration_is_refused(world: World) -> None:
    """A configuration_name that is not the ticket's is an input error, not a silent adopt."""
    ticket_id = world.session("auto")["auto_backfill_ticket_id"]
    with pytest.raises(InputError) as raised:
        configured().create(checked(configured(), ticket_id=ticket_id, configuration_name="cfg"))
    assert raised.value.fields == ["configuration_name"]


def test_starting_with_a_taken_ticket_id_leaves_that_ticket_alone(world: World) -> None:
    """A start whose chosen ID exists fails, naming the ticket, and does not stop it."""
    existing = world.session("auto")["auto_backfill_ticket_id"]
    with pytest.raises(ServiceError, match=f"{existing} already exists"):
        start(configured(), world.session(), ticket_id=existing)
    assert world.status(existing) in ("QUEUED", "SEARCHING")
    assert "StopMatchmaking" not in world.control.calls()


def test_core_client_honours_a_stored_aws_default_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ticket stored with no endpoint (AWS) is not looked up at the env's endpoint later.

    Otherwise a destroy run where AWS_ENDPOINT_URL_GAMELIFT points at an emulator finds
    the AWS ticket "gone", reports success and leaves it active (and refresh drops it).
    """
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://127.0.0.1:9")
    client = stored_where({**STATE, "endpoint_url": None}, configured()._config).client()
    assert client.meta.endpoint_url == "https://gamelift.us-east-1.amazonaws.com"


def test_region_precedence_input_then_stack_config(world: World, control: EmulatorControl) -> None:
    """The region input wins over aws:region, which wins over the environment; stored."""
    west = seed(gamelift_client(control.endpoint_url, region="us-west-2"), control, "us-west-2")
    session = west.session()
    from_config = start(configured("us-west-2"), session)
    assert from_config.outs["region"] == "us-west-2"
    assert west.status(from_config.id) in ("QUEUED", "SEARCHING")
    from_input = start(configured("eu-central-1"), west.session(), region="us-west-2")
    assert from_input.outs["region"] == "us-west-2"


def test_create_errors_never_carry_player_ids(world: World) -> None:
    """A failed start explains itself without the player IDs it was given."""
    with pytest.raises(NotFoundError) as raised:
        configured().create(
            checked(
                configured(),
                configuration_name="missing-cfg",
                game_session_arn=world.session()["GameSessionId"],
                players=EXPLICIT_PLAYERS,
            )
        )
    assert "StartMatchBackfill" in str(raised.value)
    assert "secret-player-7f3a" not in str(raised.value)


# -- read ----------------------------------------------------------------------------------


def test_read_reports_live_status_and_every_output(world: World) -> None:
    """Refresh returns the stored outputs with the ticket's current status."""
    created = start(configured(), world.session())
    world.control.set_ticket_status(created.id, "PLACING")
    read = configured().read(created.id, created.outs)
    assert read.id == created.id
    assert read.outs == {**created.outs, "status": "PLACING"}


def test_read_drops_a_ticket_gamelift_no_longer_returns(world: World) -> None:
    """A ticket absent from DescribeMatchmaking is reported with an empty ID."""
    created = start(configured(), world.session())
    world.control.settings(retention_s=0)
    world.control.set_ticket_status(created.id, "CANCELLED")
    read = configured().read(created.id, created.outs)
    assert read.id == ""
    assert read.outs is not None
    assert read.outs["ticket_id"] == created.id


def test_read_error_is_raised_not_taken_for_a_gone_ticket(world: World) -> None:
    """A failing DescribeMatchmaking fails the refresh instead of dropping the resource."""
    created = start(configured(), world.session())
    world.control.faults(
        error_rate=1, error_codes=["UnauthorizedException"], operations=["DescribeMatchmaking"]
    )
    with pytest.raises(AuthError, match=created.id):
        configured().read(created.id, created.outs)


# -- update and diff -----------------------------------------------------------------------


def test_update_changes_timeout_and_endpoint_in_place_without_calls(
    world: World, emulator: Emulator
) -> None:
    """Update makes no GameLift call and returns every output with the new values."""
    created = start(configured(), world.session())
    before = world.control.calls()
    localhost = emulator.endpoint_url.replace("127.0.0.1", "localhost")
    news = checked(
        configured(),
        configuration_name="cfg",
        game_session_arn=created.outs["game_session_arn"],
        endpoint_url=localhost,
        stop_timeout_seconds=30.0,
    )
    updated = configured().update(created.id, created.outs, news)
    assert updated.outs == {**created.outs, "endpoint_url": localhost, "stop_timeout_seconds": 30}
    assert world.control.calls() == before


STATE = {
    "configuration_name": "cfg",
    "game_session_arn": "arn:gs-1",
    "players": [{"PlayerId": "p1", "LatencyInMs": {"us-east-1": 40.0}}],
    "ticket_id": "t-1",
    "region": "us-east-1",
    "endpoint_url": None,
    "stop_timeout_seconds": 900.0,
    "status": "SEARCHING",
    "configuration_arn": "arn:aws:gamelift:us-east-1:1:matchmakingconfiguration/cfg",
    "start_time": "2024-01-01T00:00:00+00:00",
    "__provider": "old-serialized-provider",
}


def test_diff_same_inputs_is_no_change() -> None:
    """Ints vs floats, absent vs None, the configuration's ARN and __provider are no change."""
    news = {
        "configuration_name": STATE["configuration_arn"],
        "game_session_arn": "arn:gs-1",
        "players": [{"PlayerId": "p1", "LatencyInMs": {"us-east-1": 40}}],
        "region": "us-east-1",
        "stop_timeout_seconds": 900,
        "__provider": "new-serialized-provider",
    }
    diff = configured().diff("t-1", STATE, news)
    assert (diff.changes, diff.replaces) == (False, [])


def test_diff_left_out_identity_inputs_keep_the_ticket() -> None:
    """Derived players, a generated ID, an adopted ticket's configuration: no replace."""
    diff = configured().diff("t-1", STATE, {"ticket_id": "t-1", "stop_timeout_seconds": 900})
    assert (diff.changes, diff.replaces) == (False, [])


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("configuration_name", "other"),
        ("game_session_arn", "arn:gs-2"),
        ("players", [{"PlayerId": "p2"}]),
        ("ticket_id", "t-2"),
        ("region", "us-west-2"),
    ],
)
def test_diff_replaces_on_identity_deleting_first(key: str, value: Any) -> None:
    """Changing what defines the ticket replaces it, the old ticket deleted first."""
    diff = configured().diff("t-1", STATE, {"stop_timeout_seconds": 900, key: value})
    assert (diff.changes, diff.replaces, diff.delete_before_replace) == (True, [key], True)


@pytest.mark.parametrize(
    ("key", "value"),
    [("stop_timeout_seconds", 60), ("endpoint_url", "https://gamelift.example.com")],
)
def test_diff_updates_timeout_and_endpoint_in_place(key: str, value: Any) -> None:
    """Timeout and endpoint changes are updates, never replacements."""
    diff = configured().diff("t-1", STATE, {"stop_timeout_seconds": 900, key: value})
    assert (diff.changes, diff.replaces) == (True, [])


def test_diff_unknown_news_are_changes() -> None:
    """Unknown values (preview) count as changes; an unknown identity input may replace."""
    news = {
        "game_session_arn": unknown(),
        "players": [{"PlayerId": unknown()}],
        "stop_timeout_seconds": unknown(),
        "__provider": unknown(),
    }
    diff = configured().diff("t-1", STATE, news)
    assert diff.changes is True
    assert diff.replaces == ["game_session_arn", "players"]


# -- delete --------------------------------------------------------------------------------


def test_delete_stops_and_waits_until_cancelled(world: World) -> None:
    """Delete returns only once the ticket is CANCELLED; the configuration is then free."""
    created = start(configured(), world.session())
    configured().delete(created.id, created.outs)
    assert world.status(created.id) == "CANCELLED"
    world.gamelift.delete_matchmaking_configuration(Name="cfg")


@pytest.mark.parametrize("final", ["COMPLETED", "CANCELLED"])
def test_delete_of_a_final_ticket_succeeds(world: World, final: str) -> None:
    """A ticket already ended counts as stopped."""
    created = start(configured(), world.session())
    world.control.set_ticket_status(created.id, final)
    configured().delete(created.id, created.outs)
    assert world.status(created.id) == final


def test_delete_of_a_ticket_gamelift_forgot_succeeds(world: World, emulator: Emulator) -> None:
    """A ticket unknown to GameLift counts as stopped: the delete asks GameLift, hears
    NotFound, and succeeds instead of failing the destroy."""
    state = {**STATE, "ticket_id": "forgotten-1", "endpoint_url": emulator.endpoint_url}
    configured().delete("forgotten-1", state)
    assert world.control.calls()["StopMatchmaking"] == 1
    assert world.status("forgotten-1") is None


def test_delete_times_out_naming_ticket_and_status(world: World) -> None:
    """A ticket stuck in PLACING fails the delete at stop_timeout_seconds; a retry succeeds."""
    created = start(configured(), world.session(), stop_timeout_seconds=1)
    world.control.set_ticket_status(created.id, "PLACING")
    with pytest.raises(StopTimeoutError) as raised:
        configured().delete(created.id, created.outs)
    assert f"{created.id} (PLACING)" in str(raised.value)
    assert "pulumi destroy" in str(raised.value)
    assert "`stop_timeout_seconds`" in str(raised.value)
    world.control.set_ticket_status(created.id, "COMPLETED")
    configured().delete(created.id, created.outs)
