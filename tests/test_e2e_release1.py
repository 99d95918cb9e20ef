"""End to end: a stack created by release 1 meets the real Pulumi engine.

Release 1 kept its code in the project's ``providers/`` folder, so its stacks store
``providers.backfill_guard.BackfillGuardProvider`` (dill, by reference) in the guard's
``__provider``. The real engine creates such a stack (tests/fixtures/e2e_release1 puts the
provider class at that path), then one `pulumi up` runs with the package (the program
imports ``gamelift_backfill``, the checkout has today's ``providers/`` shims), then
`pulumi destroy` runs where only the wheel is installed: no ``providers/``, no
``gamelift_backfill`` folder, the plugin in a virtualenv holding the wheel alone.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from e2e_doctor_helpers import (
    CONFIGURATION_NAME,
    GUARD_TYPE,
    STACK,
    doctor,
    export,
    init_stack,
    make_project,
    resources_of,
    seed_infrastructure,
    set_config,
    use_providers,
)

from gamelift_backfill.doctor import pickles
from gamelift_emulator import Emulator, EmulatorControl
from testkit.packaging import REPOSITORY, WheelVenv, build_dists, make_wheel_venv
from testkit.pulumi_cli import PulumiSandbox

pytestmark = pytest.mark.e2e

RELEASE_1_V1_STATE = REPOSITORY / "tests" / "fixtures" / "state" / "backfill_guard_v1.json"
FINAL_STATUSES = {"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"}


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory: pytest.TempPathFactory) -> WheelVenv:
    """A virtualenv with only the built wheel installed (no providers/ importable)."""
    dists = build_dists(tmp_path_factory.mktemp("build"))
    return make_wheel_venv(dists.wheel, tmp_path_factory.mktemp("venv") / "venv")


def guard_provider(exported: dict[str, Any]) -> tuple[str, str]:
    """The guard's stored ``__provider`` (base64 pickle) in its inputs and its outputs."""
    (guard,) = resources_of(exported, GUARD_TYPE)
    return tuple(json.loads(guard[bag]["__provider"]["plaintext"]) for bag in ("inputs", "outputs"))


def modules(serialized: str) -> set[str]:
    """The modules a stored provider pickle refers to (its opcodes, never unpickled)."""
    return {ref.module for ref in pickles.references(base64.b64decode(serialized))}


def only_the_wheel(project: Path, pulumi: PulumiSandbox, wheel_venv: WheelVenv) -> None:
    """The project as a user's who installed the wheel: no ``providers/`` nor
    ``gamelift_backfill/`` folder, its ``.venv`` (and the sandbox's) the wheel's virtualenv."""
    use_providers(project, None)
    shutil.rmtree(project / "gamelift_backfill")
    (project / ".venv").unlink()
    (project / ".venv").symlink_to(wheel_venv.root, target_is_directory=True)
    pulumi.virtualenv = wheel_venv.root


def players_come(control: EmulatorControl, fleet_id: str) -> list[str]:
    """Two game sessions of the configuration, each with an automatic backfill ticket."""
    return [
        str(
            control.create_game_session(fleet_id, CONFIGURATION_NAME, 2, 8)[
                "auto_backfill_ticket_id"
            ]
        )
        for _ in range(2)
    ]


def test_a_release_1_stack_migrates_with_one_up_and_destroys_with_the_wheel_alone(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
    wheel_venv: WheelVenv,
) -> None:
    """Release 1's state (providers.*) is re-recorded as gamelift_backfill.* by one `pulumi
    up`, after which a destroy with only the wheel installed stops every ticket."""
    infrastructure = seed_infrastructure(control, gamelift)
    project = make_project(tmp_path / "project", release_1=True)
    init_stack(pulumi, project, emulator.endpoint_url, infrastructure, guard="release1")

    # 1. Release 1 creates the stack: the state names release 1's module, byte for byte
    # the pickle of the committed release-1 fixture.
    pulumi.python_program("up", "--stack", STACK, cwd=project)
    created = export(pulumi, project, tmp_path / "release1.json")
    release_1_pickle = json.loads(
        json.loads(RELEASE_1_V1_STATE.read_text())["__provider"]["plaintext"]
    )
    assert guard_provider(created) == (release_1_pickle, release_1_pickle)
    assert modules(release_1_pickle) == {"providers.backfill_guard"}

    # Where only the package is installed, the doctor says this destroy would fail.
    package_only = tmp_path / "package-only"
    package_only.mkdir()
    before = doctor(tmp_path / "release1.json", package_only, python=wheel_venv.python)
    assert before.rules() == ["provider-module-missing"]
    assert before.findings[0]["details"]["module"] == "providers.backfill_guard"

    # 2. The checkout is upgraded (providers/ shims, the program imports the package) and
    # `pulumi up` runs once: the engine updates the guard in place and stores the
    # package's reference in its inputs and outputs.
    use_providers(project, REPOSITORY / "providers")
    set_config(pulumi, project, "guard", "package")
    up = pulumi.python_program("up", "--stack", STACK, cwd=project)
    assert "1 updated" in up.stdout, up.stdout
    migrated = export(pulumi, project, tmp_path / "migrated.json")
    stored = guard_provider(migrated)
    assert [modules(s) for s in stored] == [{"gamelift_backfill.backfill_guard"}] * 2
    after = doctor(tmp_path / "migrated.json", package_only, python=wheel_venv.python)
    assert after.findings == []

    # 3. Only the wheel: no providers/ or gamelift_backfill/ in the project, the plugin
    # runs in the wheel's virtualenv. Players came meanwhile; the destroy stops them.
    only_the_wheel(project, pulumi, wheel_venv)
    tickets = players_come(control, infrastructure.fleet_id)
    pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project)

    statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert {statuses[t] for t in tickets} == {"CANCELLED"}
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []


def test_without_the_migrating_up_a_destroy_with_the_wheel_alone_fails_and_stops_nothing(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
    wheel_venv: WheelVenv,
) -> None:
    """Release 1's state destroyed where providers/ is gone: the engine cannot load the
    guard's provider, deletes nothing, and the configuration's tickets keep running."""
    infrastructure = seed_infrastructure(control, gamelift)
    project = make_project(tmp_path / "project", release_1=True)
    init_stack(pulumi, project, emulator.endpoint_url, infrastructure, guard="release1")
    pulumi.python_program("up", "--stack", STACK, cwd=project)
    only_the_wheel(project, pulumi, wheel_venv)
    tickets = players_come(control, infrastructure.fleet_id)

    failed = pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project, check=False)

    assert failed.returncode != 0
    assert "No module named 'providers'" in failed.stdout + failed.stderr
    statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert {statuses[t] for t in tickets} == {"SEARCHING"}
    exported = export(pulumi, project, tmp_path / "state.json")
    assert len(resources_of(exported, GUARD_TYPE)) == 1
    (configuration,) = gamelift.describe_matchmaking_configurations()["Configurations"]
    assert configuration["Name"] == CONFIGURATION_NAME
