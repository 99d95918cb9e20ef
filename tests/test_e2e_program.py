"""End to end with the real Pulumi CLI: the project's program and its `local` stack against
the emulator.

`pulumi up` (the program through the Automation API: no pulumi-language-python can be
built here, see testkit/pulumi_cli.py), then players come and GameLift starts automatic
backfill the program never knew, then plain `pulumi destroy`, `pulumi refresh` and
`pulumi stack export` of the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from gamelift_emulator import Emulator, EmulatorControl
from scripts import demo
from testkit.pulumi_cli import PulumiSandbox, copy_project

pytestmark = pytest.mark.e2e

STACK = demo.STACK


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
