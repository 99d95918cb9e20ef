"""End to end with the real Pulumi CLI: the teardown order is the engine's, not ours.

The test program (tests/fixtures/teardown_program) holds the matchmaking configuration as
a small dynamic resource whose delete calls DeleteMatchmakingConfiguration, with a
BackfillGuard and BackfillTickets that depend on it. The emulator's ordered call log
(``GET /_emulator/call-log``) is the evidence of what the engine did, and in which order.

Ctrl-C (SIGINT to `pulumi destroy`) with the dynamic provider, as observed with the pinned
CLI (v3.276.0): the engine prints "^C received; cancelling", sends Cancel to the dynamic
provider plugin (which answers at once and stops nothing: the SDK's plugin has no cancel
of its own), starts no further step, and waits for the Delete in flight to return. Until it
does, the state keeps the resource with a pending "deleting" operation. The run then ends
with exit status 0 and the usual "The resources in the stack have been deleted" line,
although the resources it never reached are still in the stack: after a Ctrl-C, the state,
not the exit status, says what is left. A second Ctrl-C ("^C received; terminating") ends
the CLI at once with "error: destroy cancelled" and a non-zero status; the plugin goes with
it (its polling stops), the resource shows "deleting (interrupted)" and stays in the state
with its pending operation, and the next destroy warns of it ("interrupted while deleting")
and deletes it again.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from guard_helpers import wait_for

from gamelift_emulator import Emulator, EmulatorControl
from testkit.pulumi_cli import REPOSITORY, PulumiSandbox
from testkit.seeding import RULE_SET_BODY

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "teardown_program"
MATCHMAKING_MODULE = FIXTURE.parent / "matchmaking.py"
"""The configuration's dynamic resource, shared with tests/fixtures/e2e_doctor."""
STACK = "test"
REGION = "us-east-1"
FLEET_ID = "fleet-teardown"
CONFIGURATION_NAME = "teardown-config"
RULE_SET_NAME = "teardown-rules"
QUEUE_NAME = "teardown-queue"
ACTIVE = frozenset({"QUEUED", "SEARCHING", "REQUIRES_ACCEPTANCE", "PLACING"})
REFUSAL = "cannot be deleted while it has active matchmaking tickets"
"""GameLift's words (as the emulator answers them) when a configuration still has tickets."""


@dataclass
class TeardownStack:
    """The test program's stack in a project copy, aimed at the emulator."""

    pulumi: PulumiSandbox
    project: Path
    control: EmulatorControl

    def config(self, key: str, value: str, *, path: bool = False) -> None:
        """``pulumi config set [--path] teardown-order:KEY VALUE``."""
        flags = ["--path"] if path else []
        self.pulumi.run(
            "config", "set", *flags, f"teardown-order:{key}", value, "--stack", STACK,
            cwd=self.project,
        )  # fmt: skip

    def up(self) -> None:
        """``pulumi up`` of the program (through the Automation API, see testkit.pulumi_cli)."""
        self.pulumi.python_program("up", "--stack", STACK, cwd=self.project)

    def destroy(self, *, check: bool = True) -> Any:
        """``pulumi destroy --yes``: the plain CLI, which does not run the program."""
        return self.pulumi.run("destroy", "--yes", "--stack", STACK, cwd=self.project, check=check)

    def resources(self) -> dict[str, dict[str, Any]]:
        """The program's resources in state (not the stack's nor providers'), by name."""
        deployment = self.pulumi.export(STACK, self.project)["deployment"]
        return {
            r["urn"].rsplit("::", 1)[1]: r
            for r in deployment.get("resources") or []
            if not r["type"].startswith("pulumi:")
        }

    def sessions_with_automatic_backfill(self, count: int) -> list[dict[str, Any]]:
        """``count`` matchmade game sessions (2 of 8 players): GameLift starts an automatic
        backfill ticket for each, which no program knows about."""
        return [
            self.control.create_game_session(FLEET_ID, CONFIGURATION_NAME, 2, 8)
            for _ in range(count)
        ]

    def active_ticket_ids(self) -> set[str]:
        return {t["TicketId"] for t in self.control.tickets() if t["Status"] in ACTIVE}


def copy_fixture(dest: Path) -> Path:
    """The test program with the package beside it (a user's checkout), sharing the venv."""
    shutil.copytree(FIXTURE, dest, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(MATCHMAKING_MODULE, dest / MATCHMAKING_MODULE.name)
    shutil.copytree(
        REPOSITORY / "gamelift_backfill",
        dest / "gamelift_backfill",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    (dest / ".venv").symlink_to(REPOSITORY / ".venv", target_is_directory=True)
    return dest


@pytest.fixture
def stack(
    tmp_path: Path,
    pulumi: PulumiSandbox,
    emulator: Emulator,
    control: EmulatorControl,
    gamelift: Any,
) -> TeardownStack:
    """The program's stack, configured; the emulator has the fleet, queue and rule set (the
    configuration is the program's)."""
    fleet = control.create_fleet(fleet_id=FLEET_ID)
    gamelift.create_matchmaking_rule_set(Name=RULE_SET_NAME, RuleSetBody=RULE_SET_BODY)
    queue = gamelift.create_game_session_queue(
        Name=QUEUE_NAME, Destinations=[{"DestinationArn": fleet["fleet_arn"]}]
    )["GameSessionQueue"]
    teardown = TeardownStack(pulumi, copy_fixture(tmp_path / "project"), control)
    pulumi.run("stack", "init", STACK, cwd=teardown.project)
    for key, value in {
        "region": REGION,
        "endpointUrl": emulator.endpoint_url,
        "fleetId": FLEET_ID,
        "configurationName": CONFIGURATION_NAME,
        "ruleSetName": RULE_SET_NAME,
        "queueArn": queue["GameSessionQueueArn"],
    }.items():
        teardown.config(key, value)
    return teardown


def backfill_sessions(stack: TeardownStack, sessions: Iterable[dict[str, Any]]) -> None:
    """One BackfillTicket started on each game session, by the program (a second `up`)."""
    for index, session in enumerate(sessions):
        stack.config(f"backfillGameSessions[{index}]", session["GameSessionId"], path=True)
    stack.up()


def calls_of(log: list[dict[str, Any]], operation: str) -> list[dict[str, Any]]:
    return [entry for entry in log if entry["operation"] == operation]


def test_destroy_ends_every_ticket_before_the_configuration_is_deleted(
    stack: TeardownStack, control: EmulatorControl
) -> None:
    """With a guard, destroy stops every ticket (automatic ones included) before it deletes
    the matchmaking configuration, and succeeds."""
    stack.up()
    backfilled = stack.sessions_with_automatic_backfill(2)
    backfill_sessions(stack, backfilled)
    stack.sessions_with_automatic_backfill(2)  # players came: tickets no program knows
    active = stack.active_ticket_ids()
    assert len(active) >= 4, control.tickets()
    started = control.call_log()[-1]["seq"]

    stack.destroy()

    log = control.call_log(since=started)
    (delete,) = calls_of(log, "DeleteMatchmakingConfiguration")
    assert (delete["Name"], delete["status"]) == (CONFIGURATION_NAME, 200)
    stops = calls_of(log, "StopMatchmaking")
    assert active <= {stop["TicketId"] for stop in stops}
    assert all(stop["seq"] < delete["seq"] for stop in stops), log
    assert stack.active_ticket_ids() == set()
    assert stack.resources() == {}


def test_without_a_guard_destroy_fails_on_the_configuration_with_gamelifts_refusal(
    stack: TeardownStack, control: EmulatorControl
) -> None:
    """Without a guard, destroy fails on the configuration with GameLift's refusal shown to
    the user, and the configuration stays in the stack for the next destroy."""
    stack.config("guard", "false")
    stack.up()
    backfilled = stack.sessions_with_automatic_backfill(1)
    backfill_sessions(stack, backfilled)
    unknown = {s["auto_backfill_ticket_id"] for s in stack.sessions_with_automatic_backfill(2)}
    assert unknown <= stack.active_ticket_ids()
    started = control.call_log()[-1]["seq"]

    failed = stack.destroy(check=False)

    output = failed.stdout + failed.stderr
    assert failed.returncode != 0, output
    assert REFUSAL in output, output
    assert "matchmaking-configuration" in output, output
    log = control.call_log(since=started)
    deletes = calls_of(log, "DeleteMatchmakingConfiguration")
    assert deletes, log
    assert {(d["status"], d["error"]) for d in deletes} == {(400, "InvalidRequestException")}
    stopped = {stop["TicketId"] for stop in calls_of(log, "StopMatchmaking")}
    assert stopped.isdisjoint(unknown)  # no resource knew them
    assert unknown <= stack.active_ticket_ids()
    assert set(stack.resources()) >= {"matchmaking-configuration"}
    assert not any(name.startswith("backfill-") for name in stack.resources())

    for ticket_id in unknown:  # the tickets end (a drain, a timeout...): the next one succeeds
        control.set_ticket_status(ticket_id, "CANCELLED")
    stack.destroy()
    assert stack.resources() == {}


class Output:
    """The merged stdout/stderr of a background CLI command, read as it comes."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            with self._lock:
                self._lines.append(line)

    def text(self) -> str:
        with self._lock:
            return "".join(self._lines)

    def close(self) -> str:
        """Everything, once the command has exited."""
        self._thread.join(timeout=30)
        return self.text()


def refused_stop(control: EmulatorControl, ticket_id: str) -> bool:
    """GameLift has answered a StopMatchmaking of ``ticket_id`` with a refusal (PLACING)."""
    return any(
        entry["operation"] == "StopMatchmaking"
        and entry.get("TicketId") == ticket_id
        and entry["error"] == "InvalidRequestException"
        for entry in control.call_log()
    )


@dataclass
class InterruptedDestroy:
    """`pulumi destroy` running while the guard waits on a ticket held in PLACING."""

    process: subprocess.Popen[str]
    output: Output
    placing: str
    """The ticket GameLift cannot stop yet."""


def destroy_waiting_on_placing(
    stack: TeardownStack, control: EmulatorControl
) -> InterruptedDestroy:
    """Up, one game session whose automatic ticket is PLACING, then `pulumi destroy` in the
    background, returned once the guard has met GameLift's refusal to stop that ticket."""
    stack.config("stopTimeoutSeconds", "600")  # the guard outwaits the test: it settles it
    stack.up()
    (session,) = stack.sessions_with_automatic_backfill(1)
    placing = session["auto_backfill_ticket_id"]
    control.set_ticket_status(placing, "PLACING")  # cannot be stopped, only waited out
    process = stack.pulumi.popen("destroy", "--yes", "--stack", STACK, cwd=stack.project)
    running = InterruptedDestroy(process, Output(process), placing)
    wait_for(lambda: refused_stop(control, placing), "the guard to meet the PLACING ticket")
    return running


def assert_guard_kept_with_pending_delete(stack: TeardownStack) -> None:
    """The state still holds the guard, with the engine's pending "deleting" operation."""
    deployment = stack.pulumi.export(STACK, stack.project)["deployment"]
    assert "backfill-guard" in stack.resources()
    assert [op["type"] for op in deployment.get("pending_operations") or []] == ["deleting"]


def test_ctrl_c_during_destroy_reports_nothing_deleted_that_still_runs(
    stack: TeardownStack, control: EmulatorControl
) -> None:
    """Ctrl-C while the guard waits on a ticket in PLACING: the guard stays in the state until
    its tickets really ended, nothing after it is deleted, and the next destroy finishes."""
    destroy = destroy_waiting_on_placing(stack, control)
    try:
        destroy.process.send_signal(signal.SIGINT)
        wait_for(lambda: "^C received; cancelling" in destroy.output.text(), "the cancel")

        assert destroy.process.poll() is None  # the guard's Delete is still in flight
        assert "backfill-guard deleted" not in destroy.output.text()
        assert_guard_kept_with_pending_delete(stack)

        control.set_ticket_status(destroy.placing, "COMPLETED")  # the placement ends
        returncode = destroy.process.wait(timeout=120)
    finally:
        if destroy.process.poll() is None:
            destroy.process.kill()
            destroy.process.wait()
    text = destroy.output.close()

    # The engine's verdict on a cancelled destroy whose step in flight succeeded: exit 0
    # (module doc). Pinned so that the docstring's warning stays true for the pinned CLI.
    assert returncode == 0, text
    assert "backfill-guard deleted" in text, text  # its tickets did end: a true report
    assert set(stack.resources()) == {"matchmaking-configuration"}, text
    assert calls_of(control.call_log(), "DeleteMatchmakingConfiguration") == []
    assert stack.active_ticket_ids() == set()
    deployment = stack.pulumi.export(STACK, stack.project)["deployment"]
    assert deployment.get("pending_operations") in (None, [])

    stack.destroy()
    assert stack.resources() == {}
    (delete,) = calls_of(control.call_log(), "DeleteMatchmakingConfiguration")
    assert delete["status"] == 200


def test_second_ctrl_c_leaves_the_guard_in_state_for_the_next_destroy(
    stack: TeardownStack, control: EmulatorControl
) -> None:
    """A second Ctrl-C ends destroy at once as cancelled: the guard stays in the state, the
    configuration is not deleted, and the next destroy drains and deletes both."""
    destroy = destroy_waiting_on_placing(stack, control)
    try:
        destroy.process.send_signal(signal.SIGINT)
        wait_for(lambda: "^C received; cancelling" in destroy.output.text(), "the cancel")
        destroy.process.send_signal(signal.SIGINT)
        returncode = destroy.process.wait(timeout=120)
    finally:
        if destroy.process.poll() is None:
            destroy.process.kill()
            destroy.process.wait()
    text = destroy.output.close()

    assert returncode != 0, text
    assert "destroy cancelled" in text, text
    assert "backfill-guard deleting (interrupted)" in text, text
    assert "backfill-guard deleted" not in text, text
    assert_guard_kept_with_pending_delete(stack)
    assert calls_of(control.call_log(), "DeleteMatchmakingConfiguration") == []
    assert destroy.placing in stack.active_ticket_ids()

    control.set_ticket_status(destroy.placing, "COMPLETED")  # the placement ends
    again = stack.destroy()
    assert "interrupted while deleting" in again.stdout  # the engine names the leftover
    assert stack.resources() == {}
    assert stack.active_ticket_ids() == set()
    (delete,) = calls_of(control.call_log(), "DeleteMatchmakingConfiguration")
    assert delete["status"] == 200
