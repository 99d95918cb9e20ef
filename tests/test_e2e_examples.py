"""End to end: each program under examples/ through the real Pulumi CLI and the native
plugin, against the emulator.

For each example: the emulator holds a fleet and a matchmaking configuration with automatic
backfill (the example takes their names from config, as a user's stack would); `pulumi up`
creates the BackfillGuard; then players come (game sessions whose automatic backfill
tickets the program never knew, which block DeleteMatchmakingConfiguration); `pulumi
destroy` must end every one of them, so that the configuration can be deleted right after.

The YAML example runs with the plain CLI (`pulumi up`, `pulumi destroy`) and the
`pulumi-language-yaml` of `make setup`. The TypeScript example needs `pulumi-language-nodejs`,
which cannot be built here (the Go module proxy does not serve it: docs/native-provider.md):
its test runs wherever that language host is beside the CLI or on PATH, and is skipped,
saying so, elsewhere. Each example is copied into a temp directory with its `plugins:` path
made absolute; the CLI runs in a `PulumiSandbox` (own home, file backend, no downloads).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gamelift_emulator import Emulator, EmulatorControl
from testkit.pulumi_cli import PulumiSandbox
from testkit.seeding import seed_configuration

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
REGION = "us-east-1"
CONFIGURATION = "example-backfill"
PLAYERS_CAME = 4
ACTIVE = {"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"}
STACK = "dev"


def language_host(cli: Path, runtime: str) -> Path | None:
    """``pulumi-language-<runtime>`` beside the CLI, else on PATH (where the engine looks)."""
    name = f"pulumi-language-{runtime}"
    beside = cli.parent / name
    if beside.exists():
        return beside
    found = shutil.which(name)
    return Path(found) if found is not None else None


def example_copy(name: str, tmp_path: Path) -> Path:
    """The example in a temp directory, its plugin path pointing at this checkout's bin/."""
    copy = tmp_path / name
    shutil.copytree(EXAMPLES / name, copy, ignore=shutil.ignore_patterns("node_modules"))
    project = copy / "Pulumi.yaml"
    text = project.read_text()
    assert "path: ../../bin" in text
    project.write_text(text.replace("path: ../../bin", f"path: {ROOT / 'bin'}"))
    return copy


def stack_of(pulumi: PulumiSandbox, project: Path, emulator: Emulator, fleet: str) -> None:
    """Stack `dev` of the copy, configured as examples/README.md says, aimed at ``emulator``."""
    pulumi.run("stack", "init", STACK, cwd=project)
    for key, value in (
        ("fleetId", fleet),
        ("configurationName", CONFIGURATION),
        ("gamelift-backfill:region", REGION),
        ("gamelift-backfill:endpointUrl", emulator.endpoint_url),
    ):
        pulumi.run("config", "set", key, value, "--stack", STACK, cwd=project)


def outputs(pulumi: PulumiSandbox, project: Path) -> dict[str, Any]:
    """The stack's outputs, parsed."""
    done = pulumi.run("stack", "output", "--json", "--stack", STACK, cwd=project)
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


@pytest.mark.parametrize("example", ["yaml", "typescript"])
def test_example_destroy_ends_every_ticket_so_the_configuration_can_be_deleted(
    example: str,
    tmp_path: Path,
    pulumi: PulumiSandbox,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """up, players come, destroy: every automatic ticket ended and the configuration deletes
    at once."""
    runtime = "nodejs" if example == "typescript" else "yaml"
    if language_host(pulumi.cli, runtime) is None:
        pytest.skip(
            f"pulumi-language-{runtime} is neither beside {pulumi.cli} nor on PATH (the Go "
            f"module proxy serves no version of it: docs/native-provider.md)"
        )
    project = example_copy(example, tmp_path)
    if example == "typescript":
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not on PATH (the TypeScript example needs its packages)")
        subprocess.run([npm, "install", "--no-audit", "--no-fund"], cwd=project, check=True)
    fleet = control.create_fleet(region=REGION)["fleet_id"]
    seed_configuration(gamelift, CONFIGURATION, backfill_mode="AUTOMATIC")
    stack_of(pulumi, project, emulator, fleet)

    pulumi.run("up", "--yes", "--stack", STACK, cwd=project)
    out = outputs(pulumi, project)
    assert out["guardedFleets"] == [fleet]
    assert out["activeTicketCount"] == 0

    tickets = [
        control.create_game_session(fleet, CONFIGURATION, 2, 8)["auto_backfill_ticket_id"]
        for _ in range(PLAYERS_CAME)
    ]
    assert {t["Status"] for t in control.tickets() if t["TicketId"] in tickets} <= ACTIVE

    destroyed = pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project)

    assert f"{PLAYERS_CAME} stopped" in destroyed.stdout
    statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert not {statuses.get(t) for t in tickets} & ACTIVE, statuses
    gamelift.delete_matchmaking_configuration(Name=CONFIGURATION)  # nothing blocks it now
