"""End to end: each program under examples/ through the Pulumi CLI (Automation API) and
the native plugin, against the emulator.

For each example: the emulator holds a fleet, a rule set and a queue; `pulumi up` creates
the matchmaking configuration (AWS CLI through pulumi-command) and a BackfillGuard that
depends on it; then players come (game sessions with automatic backfill tickets the
program never knew, which block DeleteMatchmakingConfiguration); `pulumi destroy` must
succeed: the engine deletes the guard first (it drains every ticket), then the
configuration, whose delete fails while any ticket is active.

Runs wherever `pulumi` is on PATH (and, for TypeScript, `npm`), skipped elsewhere. Each
example is copied into a temp directory with its `plugins:` path made absolute, and uses a
file state backend there. The first run downloads pulumi-command (and npm packages), so it
needs the network once; the emulator itself is on loopback. The AWS CLI comes from the
checkout's `.venv-awscli` (`make setup`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from gamelift_emulator import Emulator, EmulatorControl
from testkit.aws_env import isolated_environ
from testkit.seeding import seed_configuration

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
AWS_CLI_BIN = ROOT / ".venv-awscli" / "bin"
REGION = "us-east-1"
CONFIGURATION = "example-backfill"
PLAYERS_CAME = 4
ACTIVE = {"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(shutil.which("pulumi") is None, reason="the Pulumi CLI is not on PATH"),
    pytest.mark.skipif(
        not (AWS_CLI_BIN / "aws").exists(), reason="the AWS CLI of `make setup` is missing"
    ),
]


def example_copy(name: str, tmp_path: Path) -> Path:
    """The example in a temp directory, its plugin path pointing at this checkout's bin/."""
    copy = tmp_path / name
    shutil.copytree(EXAMPLES / name, copy, ignore=shutil.ignore_patterns("node_modules"))
    project = copy / "Pulumi.yaml"
    text = project.read_text()
    assert "path: ../../bin" in text
    project.write_text(text.replace("path: ../../bin", f"path: {ROOT / 'bin'}"))
    if name == "typescript":
        if shutil.which("npm") is None:
            pytest.skip("npm is not on PATH (the TypeScript example needs its packages)")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund"], cwd=copy, check=True)
    return copy


def stack_of(
    project: Path, tmp_path: Path, emulator: Emulator, queue_arn: str, fleet: str
) -> auto.Stack:
    """A stack `dev` of the copy in a file backend, aimed at ``emulator``."""
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    env = isolated_environ(
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL_GAMELIFT=emulator.endpoint_url,  # for the AWS CLI of the commands
        PATH=f"{AWS_CLI_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        PULUMI_BACKEND_URL=state.as_uri(),
        PULUMI_CONFIG_PASSPHRASE="examples",
        PULUMI_SKIP_UPDATE_CHECK="true",
    )
    stack = auto.create_or_select_stack(
        "dev", work_dir=str(project), opts=auto.LocalWorkspaceOptions(env_vars=env)
    )
    stack.set_all_config(
        {
            "fleetId": auto.ConfigValue(fleet),
            "queueArn": auto.ConfigValue(queue_arn),
            "configurationName": auto.ConfigValue(CONFIGURATION),
            "gamelift-backfill:region": auto.ConfigValue(REGION),
            "gamelift-backfill:endpointUrl": auto.ConfigValue(emulator.endpoint_url),
        }
    )
    return stack


@pytest.mark.parametrize("example", ["yaml", "typescript"])
def test_example_destroy_drains_backfill_before_the_configuration(
    example: str, tmp_path: Path, emulator: Emulator, control: EmulatorControl, gamelift: Any
) -> None:
    """up, players come, destroy: the guard drains every ticket, then the configuration
    (which refuses deletion while any is active) is deleted by the same destroy."""
    project = example_copy(example, tmp_path)
    fleet = control.create_fleet(region=REGION)["fleet_id"]
    seed_configuration(gamelift, "seed-only")  # creates the rule set `rules` and `queue`
    queue_arn = gamelift.describe_game_session_queues()["GameSessionQueues"][0][
        "GameSessionQueueArn"
    ]
    stack = stack_of(project, tmp_path, emulator, queue_arn, fleet)

    up = stack.up(color="never", on_output=print)
    assert up.summary.result == "succeeded"
    assert up.outputs["guardedFleets"].value == [fleet]
    assert up.outputs["activeTicketCount"].value == 0

    tickets = [
        control.create_game_session(fleet, CONFIGURATION, 2, 8)["auto_backfill_ticket_id"]
        for _ in range(PLAYERS_CAME)
    ]
    assert {t["Status"] for t in control.tickets() if t["TicketId"] in tickets} <= ACTIVE

    destroy = stack.destroy(color="never", on_output=print)

    assert destroy.summary.result == "succeeded"
    statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert not {statuses.get(t) for t in tickets} & ACTIVE, statuses
    names = [c["Name"] for c in gamelift.describe_matchmaking_configurations()["Configurations"]]
    assert CONFIGURATION not in names  # the destroy deleted it: nothing blocked it
