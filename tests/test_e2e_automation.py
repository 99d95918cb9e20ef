"""End to end through the Automation API, in this process: the local stack against an emulator.

The program is an inline one (``auto.create_or_select_stack(program=...)`` running the
project's ``__main__.py``): no ``pulumi-language-python`` can be built here, and an inline
program needs none: the SDK serves the language runtime from this process to the real CLI
of `PulumiSandbox.workspace_options` (own Pulumi home, file backend, no downloads).

`pulumi up` of the committed `local` stack, then game sessions appear as if players came
(automatic backfill tickets the program never knew), then `pulumi destroy`: every ticket
must have ended and DeleteMatchmakingConfiguration must succeed, where it failed before.

In-process runs and `pulumi.runtime.set_mocks` (tests/test_program_mocks.py,
tests/test_crash_recovery.py) share the SDK's global runtime settings. The inline run
configures its own (monitor, engine, project, stack) and the mocks' fixtures configure
theirs before each run and reset them after, so neither sees the other's: the fixture
below resets them after the inline run as well. Checked in one pytest process, in both
orders, with tests/test_program_mocks.py and with tests/test_crash_recovery.py.
"""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from pulumi import automation as auto
from pulumi import runtime
from pulumi.runtime import settings

from gamelift_emulator import Emulator, EmulatorControl
from scripts import demo
from testkit.pulumi_cli import PulumiSandbox, copy_project

pytestmark = pytest.mark.e2e

PROJECT_NAME = "gamelift-backfill"


def project_program(project: Path) -> auto.PulumiFn:
    """The project's ``__main__.py`` as an inline program, run as the language host runs it."""

    def run() -> None:
        runpy.run_path(str(project / "__main__.py"), run_name="__main__")

    return run


@pytest.fixture
def local_stack(tmp_path: Path, pulumi: PulumiSandbox, emulator: Emulator) -> Iterator[auto.Stack]:
    """The `local` stack of a project copy, in the sandbox's file backend, aimed at
    ``emulator``; the SDK's global runtime settings are reset after (see module doc)."""
    project = copy_project(tmp_path / "project")
    pulumi.passphrase = demo.PASSPHRASE  # the committed local stack's own
    stack = auto.create_or_select_stack(
        demo.STACK,
        project_name=PROJECT_NAME,
        program=project_program(project),
        opts=pulumi.workspace_options(project, AWS_REGION=demo.REGION),
    )
    stack.set_config("gamelift-backfill:endpointUrl", auto.ConfigValue(emulator.endpoint_url))
    try:
        yield stack
    finally:
        reset_runtime_settings()


def reset_runtime_settings() -> None:
    """The SDK's global settings as a fresh process has them (what the mocks' fixtures do)."""
    runtime.set_all_config({})
    settings.reset_options(
        project="project",
        stack="stack",
        root_directory="root_directory",
        organization="organization",
    )


def test_destroy_drains_backfill_so_the_configuration_can_be_deleted(
    local_stack: auto.Stack, emulator: Emulator, control: EmulatorControl, gamelift: Any
) -> None:
    """Automation API up, more sessions, destroy: every ticket ended and the configuration
    deletes."""
    url = emulator.endpoint_url
    demo.seed_infrastructure(url)
    before_up = demo.seed_sessions(url, 2)

    up = local_stack.up(color="never", on_output=print)

    assert up.summary.result == "succeeded"
    assert up.outputs["guardedFleets"].value == [demo.FLEET_ID]
    assert up.outputs["activeTicketCount"].value == len(before_up)

    players_came = [
        control.create_game_session(demo.FLEET_ID, demo.CONFIGURATION_NAME, 2, 8)[
            "auto_backfill_ticket_id"
        ]
        for _ in range(3)
    ]  # seeded, not matchmade: see tests/test_e2e_program.py
    assert len(demo.active_tickets(url)) == len(before_up) + len(players_came)
    with pytest.raises(botocore.exceptions.ClientError, match="active matchmaking tickets"):
        gamelift.delete_matchmaking_configuration(Name=demo.CONFIGURATION_NAME)

    destroy = local_stack.destroy(color="never", on_output=print)

    assert destroy.summary.result == "succeeded"
    tickets = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert set(before_up + players_came) <= set(tickets)
    assert set(tickets.values()) <= demo.FINAL_STATUSES, tickets
    gamelift.delete_matchmaking_configuration(Name=demo.CONFIGURATION_NAME)
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []
