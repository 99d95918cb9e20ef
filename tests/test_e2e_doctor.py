"""End to end: `gamelift-backfill doctor` on `pulumi stack export` of stacks the real Pulumi
engine wrote against the emulator (tests/fixtures/e2e_doctor: a matchmaking configuration
with automatic backfill as a dynamic resource, guarded or not).

A clean stack has nothing to fix; an unguarded one is found; a destroy killed (SIGKILL)
while the guard waits on a ticket GameLift will not stop yet leaves a pending `deleting`
operation, which the doctor explains, and the next destroy finishes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_doctor_helpers import (
    CONFIGURATION_NAME,
    CONFIGURATION_TYPE,
    DOCTOR_FINDINGS_EXIT,
    GUARD_TYPE,
    STACK,
    Infrastructure,
    doctor,
    export,
    init_stack,
    make_project,
    resources_of,
    seed_infrastructure,
    set_config,
)

from gamelift_backfill.doctor.state import SECRET_SIG_KEY
from gamelift_emulator import Emulator, EmulatorControl
from testkit.pulumi_cli import REPOSITORY, PulumiSandbox

pytestmark = pytest.mark.e2e

FINAL_STATUSES = {"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"}
MOCK_FIXTURES = REPOSITORY / "tests" / "fixtures" / "state" / "doctor"
MACHINE_KEYS = {"sourcePosition", "stackTrace"}  # where the program ran: not in fixtures
PYTHON_PROVIDER_TYPE = "pulumi:providers:pulumi-python"
OTHER_REGION = "us-west-2"
HOLD_ANSWER_MS = 10_000
"""How long GameLift holds the configuration's answer while `pulumi up` is killed."""
EVENT_TIMEOUT_SECONDS = 120.0


@pytest.fixture
def infrastructure(control: EmulatorControl, gamelift: Any) -> Infrastructure:
    """The fleet, rule set and queue outside the stack."""
    return seed_infrastructure(control, gamelift)


def stack_up(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    infrastructure: Infrastructure,
    guard: str,
) -> Path:
    """The fixture project with its stack up (``guard``: package or none); the project."""
    project = make_project(tmp_path / "project")
    init_stack(pulumi, project, emulator.endpoint_url, infrastructure, guard=guard)
    pulumi.python_program("up", "--stack", STACK, cwd=project)
    return project


def wait_for(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` until true; fail naming ``what`` after EVENT_TIMEOUT_SECONDS."""
    deadline = time.monotonic() + EVENT_TIMEOUT_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_the_doctor_finds_nothing_to_fix_in_a_clean_stack(
    pulumi: PulumiSandbox, tmp_path: Path, emulator: Emulator, infrastructure: Infrastructure
) -> None:
    """A guarded configuration's real export: exit 0, no finding, the guard's provider found."""
    project = stack_up(pulumi, tmp_path, emulator, infrastructure, "package")
    exported = export(pulumi, project, tmp_path / "state.json")
    assert len(resources_of(exported, GUARD_TYPE)) == 1
    assert len(resources_of(exported, CONFIGURATION_TYPE)) == 1

    run = doctor(tmp_path / "state.json", project)

    assert run.code == 0, run.envelope
    assert run.findings == []
    # The one note: the guard's configuration is AUTOMATIC and the stack's own (rule 7).
    (note,) = run.envelope["data"]["notes"]
    assert "disableAutomaticBackfill" in note


def whole_floats(value: Any) -> list[float]:
    """Every float in ``value`` that is a whole number (the engine writes those as ints)."""
    if isinstance(value, float):
        return [value] if value.is_integer() else []
    if isinstance(value, dict):
        return [f for v in value.values() for f in whole_floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in whole_floats(v)]
    return []


def test_the_mock_made_fixtures_have_the_shape_of_a_real_export(
    pulumi: PulumiSandbox, tmp_path: Path, emulator: Emulator, infrastructure: Infrastructure
) -> None:
    """The doctor's committed fixtures (made under mocks) write a state as the engine does:
    the same fields, secrets, numbers and default provider as a real export."""
    project = stack_up(pulumi, tmp_path, emulator, infrastructure, "package")
    real = export(pulumi, project, tmp_path / "state.json")
    fixture = json.loads((MOCK_FIXTURES / "clean.json").read_text())

    assert real["version"] == fixture["version"] == 3
    assert set(real["deployment"]) == set(fixture["deployment"])
    (real_guard,) = resources_of(real, GUARD_TYPE)
    (fixture_guard,) = resources_of(fixture, GUARD_TYPE)
    assert set(real_guard) - MACHINE_KEYS == set(fixture_guard)
    for guard in (real_guard, fixture_guard):
        for bag in ("inputs", "outputs"):
            provider = guard[bag]["__provider"]
            assert set(provider) == {SECRET_SIG_KEY, "plaintext"}
            assert isinstance(json.loads(provider["plaintext"]), str)  # the base64, no wrapper
        assert guard["provider"].startswith(f"{guard['urn'].split('::')[0]}::")
        assert set(guard["propertyDependencies"]) <= set(guard["inputs"])
    assert whole_floats(real["deployment"]["resources"]) == []
    assert whole_floats(fixture["deployment"]["resources"]) == []
    for state in (real, fixture):
        (provider,) = resources_of(state, PYTHON_PROVIDER_TYPE)
        assert provider["inputs"] == provider["outputs"]
        assert provider["inputs"]
        assert all(":" in key for key in provider["inputs"])
        assert all(isinstance(value, str) for value in provider["inputs"].values())


def test_the_doctor_finds_an_unguarded_configuration_in_a_real_export(
    pulumi: PulumiSandbox, tmp_path: Path, emulator: Emulator, infrastructure: Infrastructure
) -> None:
    """No guard: exit 8 and one unguarded-configuration finding naming the configuration."""
    project = stack_up(pulumi, tmp_path, emulator, infrastructure, "none")
    exported = export(pulumi, project, tmp_path / "state.json")
    (configuration,) = resources_of(exported, CONFIGURATION_TYPE)

    run = doctor(tmp_path / "state.json", project)

    assert run.code == DOCTOR_FINDINGS_EXIT
    assert run.rules() == ["unguarded-configuration"]
    (finding,) = run.findings
    assert finding["urns"] == [configuration["urn"]]
    assert finding["details"]["configuration_name"] == CONFIGURATION_NAME
    assert finding["details"]["backfill_mode"] == "AUTOMATIC"


@pytest.fixture
def killed_destroy(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    infrastructure: Infrastructure,
) -> Iterator[tuple[Path, str]]:
    """A guarded stack whose `pulumi destroy` was SIGKILLed while the guard waited on a
    ticket held in PLACING; yields the project and that ticket's ID."""
    project = stack_up(pulumi, tmp_path, emulator, infrastructure, "package")
    held = control.create_game_session(infrastructure.fleet_id, CONFIGURATION_NAME, 2, 8)
    other = control.create_game_session(infrastructure.fleet_id, CONFIGURATION_NAME, 2, 8)
    held_ticket = str(held["auto_backfill_ticket_id"])
    control.set_ticket_status(held_ticket, "PLACING")
    destroy = subprocess.Popen(
        pulumi.command("destroy", "--yes", "--stack", STACK),
        cwd=project,
        env=pulumi.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the CLI, killed below; its plugins by the fixture
    )
    try:
        # The guard has stopped the other session's ticket, been refused the held one
        # (PLACING) and asked after it since: the engine is inside the guard's delete.
        other_ticket = str(other["auto_backfill_ticket_id"])

        def waiting() -> bool:
            log = control.call_log()
            stops = [c for c in log if c["operation"] == "StopMatchmaking"]
            stopped = any(c.get("TicketId") == other_ticket and c["status"] == 200 for c in stops)
            refused = [
                c["seq"]
                for c in stops
                if c.get("TicketId") == held_ticket and c["error"] == "InvalidRequestException"
            ]
            return (
                stopped
                and bool(refused)
                and any(
                    c["operation"] == "DescribeMatchmaking" and c["seq"] > refused[0] for c in log
                )
            )

        wait_for(waiting, "the guard to wait on the PLACING ticket")
        statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
        assert statuses[held_ticket] == "PLACING"
        os.killpg(destroy.pid, signal.SIGKILL)
        destroy.communicate(timeout=30)
        yield project, held_ticket
    finally:
        if destroy.poll() is None:
            os.killpg(destroy.pid, signal.SIGKILL)
            destroy.communicate(timeout=30)


def test_a_destroy_killed_mid_drain_leaves_a_pending_delete_the_doctor_explains(
    killed_destroy: tuple[Path, str],
    pulumi: PulumiSandbox,
    tmp_path: Path,
    control: EmulatorControl,
    gamelift: Any,
) -> None:
    """SIGKILL mid-drain: the export holds a pending `deleting` of the guard, the doctor says
    to destroy again, and once the ticket settles the next destroy finishes."""
    project, held_ticket = killed_destroy
    exported = export(pulumi, project, tmp_path / "state.json")
    (guard,) = resources_of(exported, GUARD_TYPE)
    pending = exported["deployment"]["pending_operations"]
    assert [(p["type"], p["resource"]["urn"]) for p in pending] == [("deleting", guard["urn"])]

    run = doctor(tmp_path / "state.json", project)

    assert run.code == DOCTOR_FINDINGS_EXIT
    assert run.rules() == ["pending-operation"]
    (finding,) = run.findings
    assert finding["urns"] == [guard["urn"]]
    assert finding["details"]["operation"] == "deleting"
    assert "`pulumi destroy` again" in finding["fix"]

    assert "`pulumi cancel`" in finding["fix"]

    control.set_ticket_status(held_ticket, "COMPLETED")
    locked = pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project, check=False)
    assert locked.returncode != 0
    assert "the stack is currently locked" in locked.stderr
    assert "pulumi cancel" in locked.stderr
    pulumi.run("cancel", "--yes", "--stack", STACK, cwd=project)
    done = pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project)
    assert "interrupted while deleting" in done.stdout  # the engine's own warning
    statuses = {t["TicketId"]: t["Status"] for t in control.tickets()}
    assert set(statuses.values()) <= FINAL_STATUSES, statuses
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []


def start_up(pulumi: PulumiSandbox, project: Path) -> subprocess.Popen[str]:
    """`pulumi up` of the project (testkit/inline_program.py) in a process group of its own:
    the driver and the CLI it starts, killed together by `os.killpg` (the plugins the
    engine started, each in a group of its own, by the `pulumi` fixture)."""
    return subprocess.Popen(
        [
            str(pulumi.virtualenv / "bin" / "python"),
            "-P",
            str(REPOSITORY / "testkit" / "inline_program.py"),
            "up",
            "--stack",
            STACK,
        ],
        cwd=project,
        env=pulumi.env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def refused_then_asked_again(control: EmulatorControl, ticket_id: str) -> bool:
    """GameLift refused to stop ``ticket_id`` (PLACING) and was asked about it since: the
    caller is waiting on it."""
    log = control.call_log()
    refused = [
        c["seq"]
        for c in log
        if c["operation"] == "StopMatchmaking"
        and c.get("TicketId") == ticket_id
        and c["error"] == "InvalidRequestException"
    ]
    return bool(refused) and any(
        c["operation"] == "DescribeMatchmaking" and c["seq"] > refused[0] for c in log
    )


def test_an_up_killed_while_the_replaced_guard_drains(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
    infrastructure: Infrastructure,
) -> None:
    """A guard replaced (new region) whose old instance was draining when `pulumi up` was
    SIGKILLed: the doctor names the replaced guard's interrupted delete, once, and the next
    destroy finishes it."""
    project = stack_up(pulumi, tmp_path, emulator, infrastructure, "package")
    control.create_fleet(fleet_id=infrastructure.fleet_id, region=OTHER_REGION)
    held = control.create_game_session(infrastructure.fleet_id, CONFIGURATION_NAME, 2, 8)
    held_ticket = str(held["auto_backfill_ticket_id"])
    control.set_ticket_status(held_ticket, "PLACING")
    set_config(pulumi, project, "guardRegion", OTHER_REGION)
    up = start_up(pulumi, project)
    try:
        wait_for(lambda: refused_then_asked_again(control, held_ticket), "the old guard's drain")
        os.killpg(up.pid, signal.SIGKILL)
        up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.communicate(timeout=30)

    exported = export(pulumi, project, tmp_path / "state.json")
    guards = resources_of(exported, GUARD_TYPE)
    (old,) = [g for g in guards if g.get("delete") is True]
    (live,) = [g for g in guards if "delete" not in g]
    assert (live["urn"], live["inputs"]["region"]) == (old["urn"], OTHER_REGION)
    pending = exported["deployment"]["pending_operations"]
    assert [(p["type"], p["resource"]["id"]) for p in pending] == [("deleting", old["id"])]
    mock_made = json.loads((MOCK_FIXTURES / "pending_operations.json").read_text())
    (mock_old,) = [g for g in resources_of(mock_made, GUARD_TYPE) if g.get("delete") is True]
    assert set(old) - MACHINE_KEYS == set(mock_old)  # the mock-made replaced guard's shape

    run = doctor(tmp_path / "state.json", project)

    assert run.code == DOCTOR_FINDINGS_EXIT
    assert run.rules() == ["pending-delete"]
    (finding,) = run.findings
    assert finding["urns"] == [old["urn"]]
    assert finding["details"] == {"operation": "delete", "interrupted": True}
    assert "`pulumi cancel`" in finding["fix"]

    control.set_ticket_status(held_ticket, "COMPLETED")
    pulumi.run("cancel", "--yes", "--stack", STACK, cwd=project)
    done = pulumi.run("destroy", "--yes", "--stack", STACK, cwd=project)
    assert "interrupted while deleting" in done.stdout
    assert gamelift.describe_matchmaking_configurations()["Configurations"] == []
    assert exported_resources(pulumi, project) == []


def exported_resources(pulumi: PulumiSandbox, project: Path) -> list[dict[str, Any]]:
    """The stack's resources now (`pulumi stack export`)."""
    resources: list[dict[str, Any]] = pulumi.export(STACK, project)["deployment"].get(
        "resources", []
    )
    return resources


def test_an_up_killed_mid_create_leaves_a_pending_create_the_doctor_explains(
    pulumi: PulumiSandbox,
    tmp_path: Path,
    emulator: Emulator,
    control: EmulatorControl,
    infrastructure: Infrastructure,
) -> None:
    """SIGKILL while GameLift holds the configuration's create: the export has a pending
    `creating` shaped as the mock-made fixture's, and the doctor explains it."""
    project = make_project(tmp_path / "project")
    init_stack(pulumi, project, emulator.endpoint_url, infrastructure, guard="package")
    # GameLift creates the configuration at once and answers HOLD_ANSWER_MS later.
    control.faults(latency_ms=HOLD_ANSWER_MS, operations=["CreateMatchmakingConfiguration"])
    up = start_up(pulumi, project)
    try:
        wait_for(
            lambda: any(
                c["operation"] == "CreateMatchmakingConfiguration" for c in control.call_log()
            ),
            "the configuration's create to reach GameLift",
        )
        os.killpg(up.pid, signal.SIGKILL)
        up.communicate(timeout=30)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.communicate(timeout=30)
    # The held answer goes nowhere now; let it end before the emulator serves other tests.
    wait_for(
        lambda: all(
            c["status"] is not None
            for c in control.call_log()
            if c["operation"] == "CreateMatchmakingConfiguration"
        ),
        "the held answer to end",
    )
    control.clear_faults()

    exported = export(pulumi, project, tmp_path / "state.json")
    pending = exported["deployment"]["pending_operations"]
    assert [(p["type"], p["resource"]["type"]) for p in pending] == [
        ("creating", CONFIGURATION_TYPE)
    ]
    created = pending[0]["resource"]
    mock_made = json.loads((MOCK_FIXTURES / "pending_operations.json").read_text())
    (mock_pending,) = mock_made["deployment"]["pending_operations"]
    assert mock_pending["type"] == "creating"
    program_keys = {"dependencies", "propertyDependencies"}  # each program's own
    assert set(created) - MACHINE_KEYS - program_keys == set(mock_pending["resource"]) - (
        program_keys
    )
    assert "id" not in created
    assert "outputs" not in created

    run = doctor(tmp_path / "state.json", project)

    assert run.code == DOCTOR_FINDINGS_EXIT
    # The guard was never created: the configuration GameLift holds is unguarded too.
    assert run.rules() == ["unguarded-configuration", "pending-operation"]
    unguarded, finding = run.findings
    assert unguarded["urns"] == finding["urns"] == [created["urn"]]
    assert finding["details"]["operation"] == "creating"
    assert "--clear-pending-creates" in finding["fix"]
    assert "`pulumi cancel`" in finding["fix"]  # the killed run's lock, met in the next test
