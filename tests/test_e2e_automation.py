"""End to end through the Pulumi CLI (Automation API): the local stack against an emulator.

`pulumi up` of the committed `local` stack, then game sessions appear as if players came
(automatic backfill tickets the program never knew), then `pulumi destroy`: every ticket
must have ended and DeleteMatchmakingConfiguration must succeed, where it failed before.

Runs wherever `pulumi` is on PATH, skipped elsewhere. The project is copied into a temp
directory (its `.venv` linked to the project's) so the stack's config (the emulator's
port) and the file state backend stay out of the working tree. The first run downloads the
resource plugins the virtualenv's packages declare (pulumi-aws), so it needs the network
once; the emulator itself is on loopback.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest
from pulumi import automation as auto

from gamelift_emulator import Emulator, EmulatorControl
from scripts import demo
from testkit.aws_env import CREDENTIALS

ROOT = Path(__file__).resolve().parent.parent
PROJECT_FILES = ("Pulumi.yaml", "Pulumi.local.yaml", "__main__.py", "program_config.py")
PROJECT_DIRS = ("gamelift_backfill", "providers", "rulesets")

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="the Pulumi CLI is not on PATH"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the Pulumi project, as a user's checkout would be, sharing the virtualenv."""
    copy = tmp_path / "project"
    copy.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, copy / name)
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    return copy


@pytest.fixture
def local_stack(project: Path, tmp_path: Path, emulator: Emulator) -> auto.Stack:
    """The `local` stack of the copy, in a file backend of its own, aimed at `emulator`."""
    state = tmp_path / "state"
    state.mkdir()
    env = {
        **CREDENTIALS,
        "AWS_REGION": demo.REGION,
        "PULUMI_BACKEND_URL": state.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": demo.PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
    }
    stack = auto.create_or_select_stack(
        demo.STACK, work_dir=str(project), opts=auto.LocalWorkspaceOptions(env_vars=env)
    )
    stack.set_config("gamelift-backfill:endpointUrl", auto.ConfigValue(emulator.endpoint_url))
    return stack


def test_destroy_drains_backfill_so_the_configuration_can_be_deleted(
    local_stack: auto.Stack, emulator: Emulator, control: EmulatorControl, gamelift: Any
) -> None:
    """up, more sessions, destroy: every ticket ended and the configuration deletes."""
    url = emulator.endpoint_url
    demo.seed_infrastructure(url)
    before_up = demo.seed_sessions(url, 2)

    up = local_stack.up(color="never", on_output=print)

    assert up.summary.result == "succeeded"
    assert up.outputs["guardedFleets"].value == [demo.FLEET_ID]
    assert up.outputs["activeTicketCount"].value == len(before_up)

    players_came = demo.seed_sessions(url, 3)
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
