"""End to end with the real Pulumi CLI: the teardown order is the engine's, not ours.

The test program (tests/fixtures/teardown_program) holds the matchmaking configuration as
a small dynamic resource whose delete calls DeleteMatchmakingConfiguration, with a
BackfillGuard and BackfillTickets that depend on it. The emulator's ordered call log
(``GET /_emulator/call-log``) is the evidence of what the engine did, and in which order.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from gamelift_emulator import Emulator, EmulatorControl
from testkit.pulumi_cli import REPOSITORY, PulumiSandbox
from testkit.seeding import RULE_SET_BODY

pytestmark = pytest.mark.e2e

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "teardown_program"
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
