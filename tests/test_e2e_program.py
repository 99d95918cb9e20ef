"""End to end with the real Pulumi CLI: the project's program and its `local` stack against
the emulator.

`pulumi up` (the program through the Automation API: no pulumi-language-python can be
built here, see testkit/pulumi_cli.py), then players come and GameLift starts automatic
backfill the program never knew, then plain `pulumi destroy`, `pulumi refresh` and
`pulumi stack export` of the CLI.

Game sessions are seeded with the control API (``create_game_session``), not by queueing
players (``demo.seed_sessions``) a second time: the emulator's automatic backfill tickets
carry no latency for the session's current players, so its latency rule does not keep the
second round's regions out of the first round's sessions; backfill absorbs some of the new
players and may leave one alone, never matched (3 of 7 runs without Pulumi at all).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from guard_helpers import wait_for

from gamelift_emulator import Emulator, EmulatorControl
from scripts import demo
from testkit.pulumi_cli import PulumiSandbox, copy_project

pytestmark = pytest.mark.e2e

STACK = demo.STACK
SECRET_SIG = "4dabf18193072939515e22adb298388d"
SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270"
"""The key and value that mark a secret in Pulumi's state (``sdk/go/common/resource/sig``)."""


@pytest.fixture
def local_project(tmp_path: Path, pulumi: PulumiSandbox, emulator: Emulator) -> Path:
    """A copy of the project whose `local` stack is aimed at ``emulator``, with the demo's
    infrastructure seeded (fleet, queue, rule set, configuration with automatic backfill)."""
    project = copy_project(tmp_path / "project")
    pulumi.passphrase = demo.PASSPHRASE  # the committed local stack's own
    pulumi.run("stack", "init", STACK, cwd=project)
    set_config(pulumi, project, "gamelift-backfill:endpointUrl", emulator.endpoint_url)
    demo.seed_infrastructure(emulator.endpoint_url)
    return project


def set_config(
    pulumi: PulumiSandbox, project: Path, key: str, value: str, *, path: bool = False
) -> None:
    """``pulumi config set`` on the local stack."""
    flags = ["--path"] if path else []
    pulumi.run("config", "set", *flags, key, value, "--stack", STACK, cwd=project)


def backfill_new_sessions(
    pulumi: PulumiSandbox, project: Path, control: EmulatorControl, count: int
) -> list[str]:
    """``count`` game sessions (2 of 8 players) in ``gamelift-backfill:backfillGameSessions``,
    then `pulumi up`: the program starts a BackfillTicket on each. Returns their ticket IDs."""
    for index in range(count):
        session = control.create_game_session(demo.FLEET_ID, demo.CONFIGURATION_NAME, 2, 8)
        key = f"gamelift-backfill:backfillGameSessions[{index}]"
        set_config(pulumi, project, key, session["GameSessionId"], path=True)
    pulumi.python_program("up", "--stack", STACK, cwd=project)
    ticket_ids: list[str] = outputs(pulumi, project)["ticketIds"]
    assert len(ticket_ids) == count
    return ticket_ids


def ticket_resources(exported: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The BackfillTicket resources of a `pulumi stack export`, by ticket ID (their id)."""
    resources = exported["deployment"].get("resources") or []
    return {r["id"]: r for r in resources if r["type"].endswith(":BackfillTicket")}


def is_secret(value: Any) -> bool:
    """A value the state holds encrypted (the engine's secret signature)."""
    return (
        isinstance(value, dict)
        and value.get(SECRET_SIG) == SECRET_SIG_VALUE
        and ("ciphertext" in value)
    )


def outputs(pulumi: PulumiSandbox, project: Path) -> dict[str, Any]:
    """``pulumi stack output --json --show-secrets`` of the local stack."""
    done = pulumi.run("stack", "output", "--json", "--show-secrets", "--stack", STACK, cwd=project)
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def test_destroy_ends_every_ticket_so_the_configuration_can_be_deleted(
    local_project: Path,
    pulumi: PulumiSandbox,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """up, players come, destroy: every ticket ended and the configuration deletes at once."""
    url = emulator.endpoint_url
    before_up = demo.seed_sessions(url, 2)

    pulumi.python_program("up", "--stack", STACK, cwd=local_project)
    out = outputs(pulumi, local_project)
    assert out["guardedFleets"] == [demo.FLEET_ID]
    assert out["activeTicketCount"] == len(before_up)

    players_came = [
        control.create_game_session(demo.FLEET_ID, demo.CONFIGURATION_NAME, 2, 8)[
            "auto_backfill_ticket_id"
        ]
        for _ in range(3)
    ]
    assert len(demo.active_tickets(url)) == len(before_up) + len(players_came)
    with pytest.raises(botocore.exceptions.ClientError, match="active matchmaking tickets"):
        gamelift.delete_matchmaking_configuration(Name=demo.CONFIGURATION_NAME)

    pulumi.run("destroy", "--yes", "--stack", STACK, cwd=local_project)

    tickets = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert set(before_up + players_came) <= set(tickets)
    assert set(tickets.values()) <= demo.FINAL_STATUSES, tickets
    gamelift.delete_matchmaking_configuration(Name=demo.CONFIGURATION_NAME)
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []


def test_refresh_follows_tickets_that_ended_on_their_own(
    local_project: Path, pulumi: PulumiSandbox, emulator: Emulator, control: EmulatorControl
) -> None:
    """After tickets ended without Pulumi, refresh records a finished ticket's status and drops a
    ticket GameLift no longer knows, and the next destroy still succeeds."""
    finished, forgotten = backfill_new_sessions(pulumi, local_project, control, 2)
    control.set_ticket_status(finished, "COMPLETED")
    control.settings(retention_s=0)  # a final ticket is forgotten as soon as it ends
    control.set_ticket_status(forgotten, "CANCELLED")
    wait_for(
        lambda: forgotten not in {t["TicketId"] for t in control.tickets()},
        f"the emulator to forget ticket {forgotten}",
    )

    # GameLift starts automatic backfill again for sessions whose ticket ended: the guard's
    # count after refresh is what is active now, whichever tickets those are.
    active_now = len(demo.active_tickets(emulator.endpoint_url))

    refreshed = pulumi.run("refresh", "--yes", "--stack", STACK, cwd=local_project)

    assert f"backfill ticket {forgotten} is no longer known to GameLift" in refreshed.stdout
    exported = pulumi.export(STACK, local_project)
    tickets = ticket_resources(exported)
    assert set(tickets) == {finished}
    assert tickets[finished]["outputs"]["status"] == "COMPLETED"
    (guard,) = [
        r for r in exported["deployment"]["resources"] if r["type"].endswith(":BackfillGuard")
    ]
    assert guard["outputs"]["active_ticket_count"] == active_now
    pulumi.run("destroy", "--yes", "--stack", STACK, cwd=local_project)
    assert ticket_resources(pulumi.export(STACK, local_project)) == {}


def test_stack_export_keeps_players_secret(
    local_project: Path,
    pulumi: PulumiSandbox,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """A live stack's export holds each ticket's players as a secret: no player ID in clear."""
    ticket_ids = backfill_new_sessions(pulumi, local_project, control, 2)
    described = gamelift.describe_matchmaking(TicketIds=ticket_ids)["TicketList"]
    player_ids = {p["PlayerId"] for t in described for p in t["Players"]}
    assert len(player_ids) == 4  # 2 per session

    exported = pulumi.export(STACK, local_project)
    text = json.dumps(exported)
    assert [pid for pid in player_ids if pid in text] == []
    tickets = ticket_resources(exported)
    assert set(tickets) == set(ticket_ids)
    for resource in tickets.values():
        assert is_secret(resource["outputs"]["players"]), resource["outputs"]["players"]
        assert "players" not in resource["inputs"]  # derived from the session, not an input

    # --show-secrets gives {<secret sig>, "plaintext": "<JSON>"}: the players themselves
    revealed = ticket_resources(pulumi.export(STACK, local_project, show_secrets=True))
    plaintexts = [json.loads(r["outputs"]["players"]["plaintext"]) for r in revealed.values()]
    assert {p["PlayerId"] for players in plaintexts for p in players} == player_ids
