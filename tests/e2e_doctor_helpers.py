"""Shared by the end-to-end tests of the doctor, the policy pack and release-1 stacks: the
fixture project tests/fixtures/e2e_doctor (a matchmaking configuration as a dynamic
resource, guarded or not) copied as a user's checkout has it, its stack, and the doctor
run as a user runs it on `pulumi stack export`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gamelift_emulator import EmulatorControl
from testkit.pulumi_cli import REPOSITORY, PulumiSandbox
from testkit.seeding import RULE_SET_BODY

FIXTURES = Path(__file__).resolve().parent / "fixtures"
PROJECT_FIXTURE = FIXTURES / "e2e_doctor"
RELEASE_1_OVERLAY = FIXTURES / "e2e_release1"
PROJECT_NAME = "e2e-doctor"
STACK = "dev"
FLEET_ID = "fleet-e2e-doctor"
CONFIGURATION_NAME = "e2e-doctor-backfill"
RULE_SET_NAME = "e2e-doctor-rules"
QUEUE_NAME = "e2e-doctor-queue"
CONFIGURATION_TYPE = "pulumi-python:dynamic/gamelift:MatchmakingConfiguration"
GUARD_TYPE = "pulumi-python:dynamic/gamelift:BackfillGuard"
DOCTOR_FINDINGS_EXIT = 8


def make_project(dest: Path, *, package: bool = True, release_1: bool = False) -> Path:
    """The fixture project at ``dest`` with this checkout's ``.venv`` linked. ``package``:
    with ``gamelift_backfill`` and the ``providers`` shims copied in, as a checkout has
    them (else they must come from the virtualenv); ``release_1``: ``providers`` is release
    1's (tests/fixtures/e2e_release1) instead of the shims."""
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(PROJECT_FIXTURE, dest, ignore=ignore)
    shutil.copy2(FIXTURES / "matchmaking.py", dest / "matchmaking.py")
    if package:
        shutil.copytree(REPOSITORY / "gamelift_backfill", dest / "gamelift_backfill", ignore=ignore)
        shutil.copytree(REPOSITORY / "providers", dest / "providers", ignore=ignore)
    if release_1:
        use_providers(dest, RELEASE_1_OVERLAY / "providers")
    (dest / ".venv").symlink_to(REPOSITORY / ".venv", target_is_directory=True)
    return dest


def use_providers(project: Path, source: Path | None) -> None:
    """Replace the project's ``providers`` folder by ``source`` (None: no folder at all)."""
    shutil.rmtree(project / "providers", ignore_errors=True)
    if source is not None:
        shutil.copytree(source, project / "providers", ignore=shutil.ignore_patterns("__pycache__"))


@dataclass(frozen=True)
class Infrastructure:
    """What exists outside the stack: a fleet, a rule set and a queue on the emulator."""

    fleet_id: str
    queue_arn: str


def seed_infrastructure(control: EmulatorControl, gamelift: Any) -> Infrastructure:
    """The fleet, rule set and queue the stack's configuration uses."""
    fleet = control.create_fleet(fleet_id=FLEET_ID)
    gamelift.create_matchmaking_rule_set(Name=RULE_SET_NAME, RuleSetBody=RULE_SET_BODY)
    queue = gamelift.create_game_session_queue(
        Name=QUEUE_NAME, Destinations=[{"DestinationArn": fleet["fleet_arn"]}]
    )["GameSessionQueue"]
    return Infrastructure(fleet_id=FLEET_ID, queue_arn=queue["GameSessionQueueArn"])


def init_stack(
    pulumi: PulumiSandbox,
    project: Path,
    endpoint_url: str,
    infrastructure: Infrastructure,
    *,
    guard: str,
) -> None:
    """``pulumi stack init`` and the stack's config (``guard``: package, release1, none)."""
    pulumi.run("stack", "init", STACK, cwd=project)
    set_config(pulumi, project, "guard", guard)
    for key, value in {
        "endpointUrl": endpoint_url,
        "fleetId": infrastructure.fleet_id,
        "configurationName": CONFIGURATION_NAME,
        "ruleSetName": RULE_SET_NAME,
        "queueArn": infrastructure.queue_arn,
    }.items():
        set_config(pulumi, project, key, value)


def set_config(pulumi: PulumiSandbox, project: Path, key: str, value: str) -> None:
    """``pulumi config set`` of the project's namespace on the test stack."""
    pulumi.run("config", "set", f"{PROJECT_NAME}:{key}", value, "--stack", STACK, cwd=project)


def export(pulumi: PulumiSandbox, project: Path, dest: Path) -> dict[str, Any]:
    """``pulumi stack export --show-secrets`` written to ``dest`` (as users feed the doctor);
    the parsed export."""
    done = pulumi.run("stack", "export", "--show-secrets", "--stack", STACK, cwd=project)
    dest.write_text(done.stdout)
    exported: dict[str, Any] = json.loads(done.stdout)
    return exported


@dataclass(frozen=True)
class DoctorRun:
    """One ``gamelift-backfill doctor --json`` run: its exit status and envelope."""

    code: int
    envelope: dict[str, Any]

    @property
    def findings(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.envelope["data"]["findings"]
        return found

    def rules(self) -> list[str]:
        return [finding["rule"] for finding in self.findings]


def doctor(state: Path, cwd: Path, python: Path | None = None) -> DoctorRun:
    """``python -m gamelift_backfill doctor STATE --json`` in ``cwd`` (where `pulumi destroy`
    would import the providers' modules), as a separate process like a user's."""
    done = subprocess.run(
        [str(python or sys.executable), "-m", "gamelift_backfill", "doctor", str(state), "--json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.stdout, done.stderr
    return DoctorRun(code=done.returncode, envelope=json.loads(done.stdout))


def resources_of(exported: dict[str, Any], type_: str) -> list[dict[str, Any]]:
    """The export's resources of one type."""
    return [r for r in exported["deployment"]["resources"] if r["type"] == type_]
