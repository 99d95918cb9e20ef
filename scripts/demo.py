"""The local demo: `make demo` (both halves), `make up`, `make down`. No AWS account.

It starts the GameLift emulator in the background on the port of the committed `local`
stack (Pulumi.local.yaml), seeds it as a live preview environment would be (a fleet, a
queue, the two-team rule set, a configuration with automatic backfill, game sessions whose
automatic backfill tickets no program knows about), then runs `pulumi up` and
`pulumi destroy` of the local stack with a file state backend in `.pulumi-state/`, and
shows that every ticket ended and the configuration could be deleted.

Without a Pulumi CLI (none on PATH, and the pinned one could not be downloaded into
`.pulumi-cli/`), or with `--offline` / GAMELIFT_DEMO_OFFLINE=1, it says so in one line and
runs the offline half instead: the same seeded emulator drained by
`python -m providers drain`, then the configuration deleted. The exit status is 0 only
when every ticket ended and the configuration was deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as `python scripts/demo.py`: make the project importable
    sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
import botocore.config  # noqa: E402
import botocore.exceptions  # noqa: E402

from gamelift_emulator.client import EmulatorControl  # noqa: E402
from gamelift_emulator.launcher import LaunchError, launch  # noqa: E402
from testkit.aws_env import CREDENTIALS, isolated_environ  # noqa: E402
from testkit.seeding import seed_configuration  # noqa: E402

PULUMI_VERSION = "3.272.0"
"""The CLI release matching the pinned `pulumi` SDK (requirements.txt)."""
PULUMI_INSTALLER = "https://get.pulumi.com"

# What the committed local stack (Pulumi.local.yaml) expects; a test keeps them in step.
STACK = "local"
PORT = 47651
REGION = "us-east-1"
FLEET_ID = "fleet-local-demo"
CONFIGURATION_NAME = "local-demo-backfill"
QUEUE_NAME = "local-demo-queue"
RULE_SET_NAME = "local-demo-two-teams"
PASSPHRASE = "gamelift-backfill-local-demo"
"""The local stack's own passphrase: it protects nothing secret (the salt is committed)."""

STATE_DIR = Path(os.environ.get("GAMELIFT_DEMO_STATE_DIR") or ROOT / ".pulumi-state").resolve()
"""The file state backend, the emulator's log and the record `make up` leaves for `make down`
(GAMELIFT_DEMO_STATE_DIR moves it, e.g. for tests)."""
CLI_DIR = ROOT / ".pulumi-cli"
RUN_FILE = STATE_DIR / "demo-emulator.json"
LOG_FILE = STATE_DIR / "emulator.log"
OFFLINE_ENV = "GAMELIFT_DEMO_OFFLINE"

FINAL_STATUSES = frozenset({"CANCELLED", "COMPLETED", "FAILED", "TIMED_OUT"})
SESSIONS_AT_START = 4
SESSIONS_LATER = 3
DRAIN_TIMEOUT_SECONDS = 60


class DemoError(Exception):
    """A step failed; the message is the one line the user sees."""


def say(message: str) -> None:
    """One line of the demo's narration."""
    print(f"[demo] {message}", flush=True)


# ---------------------------------------------------------------- the emulator


@dataclass
class RunningEmulator:
    """An emulator process the demo started (recorded in RUN_FILE between up and down)."""

    pid: int
    endpoint_url: str
    mode: str
    """"pulumi" or "offline": how `down` tears it down."""

    def save(self) -> None:
        RUN_FILE.write_text(json.dumps(asdict(self)))

    @classmethod
    def load(cls) -> RunningEmulator | None:
        try:
            return cls(**json.loads(RUN_FILE.read_text()))
        except FileNotFoundError:
            return None


def start_emulator(port: int, *, detach: bool) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m gamelift_emulator` and wait for its first line (the endpoint URL).

    `detach` puts it in its own session so that it outlives `make up`.
    """
    STATE_DIR.mkdir(exist_ok=True)
    with LOG_FILE.open("a") as log:
        try:
            running = launch(port=port, region=REGION, stderr=log, detach=detach)
        except LaunchError as error:
            raise DemoError(
                f"{error} (port in use? an emulator from `make up` is stopped by "
                f"`make down`); its log: {LOG_FILE}"
            ) from None
    return running.process, running.endpoint_url


def stop_emulator(process: subprocess.Popen[str]) -> None:
    """SIGTERM, then wait for the exit (the emulator exits 0 on SIGTERM)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def stop_detached(running: RunningEmulator) -> None:
    """Stop the emulator `make up` left running, if that PID is still that emulator."""
    try:
        command_line = Path(f"/proc/{running.pid}/cmdline").read_bytes()
    except OSError:
        command_line = b"gamelift_emulator" if _alive(running.pid) else b""
    if b"gamelift_emulator" in command_line:
        os.kill(running.pid, signal.SIGTERM)
        _wait_for_exit(running.pid, timeout=15)
    RUN_FILE.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _wait_for_exit(pid: int, timeout: float) -> None:
    """Wait on a pidfd where Linux offers one (an event); otherwise poll the PID."""
    if hasattr(os, "pidfd_open"):
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            return
        try:
            select.select([fd], [], [], timeout)
        finally:
            os.close(fd)
        return
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


# ---------------------------------------------------------------- GameLift


def gamelift(endpoint_url: str) -> Any:
    """A boto3 GameLift client of the emulator (its credentials, no retries hiding errors)."""
    return boto3.session.Session().client(
        "gamelift",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        config=botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def seed_infrastructure(endpoint_url: str) -> None:
    """What a preview environment has: a fleet, a queue, a rule set, a configuration with
    automatic backfill."""
    fleet = EmulatorControl(endpoint_url).create_fleet(fleet_id=FLEET_ID, region=REGION)
    seed_configuration(
        gamelift(endpoint_url),
        CONFIGURATION_NAME,
        backfill_mode="AUTOMATIC",
        timeout_seconds=120,
        rule_set=RULE_SET_NAME,
        queue=QUEUE_NAME,
        destinations=[fleet["fleet_arn"]],
    )
    say(
        f"seeded fleet {FLEET_ID}, queue {QUEUE_NAME}, rule set {RULE_SET_NAME}, "
        f"configuration {CONFIGURATION_NAME} (BackfillMode AUTOMATIC)"
    )


def seed_sessions(endpoint_url: str, count: int) -> list[str]:
    """Game sessions that are not full, as matchmaking leaves them: GameLift starts an
    automatic backfill ticket for each. Returns those ticket IDs."""
    control = EmulatorControl(endpoint_url)
    tickets = []
    for index in range(count):
        session = control.create_game_session(
            FLEET_ID, CONFIGURATION_NAME, player_count=2 + index % 5, max_players=8, region=REGION
        )
        tickets.append(str(session["auto_backfill_ticket_id"]))
    say(f"{count} game sessions not full: automatic backfill tickets {', '.join(tickets)}")
    return tickets


def active_tickets(endpoint_url: str) -> list[dict[str, Any]]:
    """Tickets of the demo's configuration that still block its deletion."""
    return [
        ticket
        for ticket in EmulatorControl(endpoint_url).tickets(region=REGION)
        if ticket["Status"] not in FINAL_STATUSES
        and str(ticket.get("ConfigurationName", CONFIGURATION_NAME)) == CONFIGURATION_NAME
    ]


def delete_configuration(endpoint_url: str) -> str | None:
    """DeleteMatchmakingConfiguration; None on success, else GameLift's error."""
    try:
        gamelift(endpoint_url).delete_matchmaking_configuration(Name=CONFIGURATION_NAME)
    except botocore.exceptions.ClientError as error:
        details = error.response.get("Error", {})
        return f"{details.get('Code')}: {details.get('Message')}"
    return None


def show_blocked_delete(endpoint_url: str) -> None:
    """The problem the project solves, shown before teardown."""
    error = delete_configuration(endpoint_url)
    if error is None:
        raise DemoError("DeleteMatchmakingConfiguration succeeded with backfill still running")
    say(
        f"{len(active_tickets(endpoint_url))} backfill tickets active; deleting the "
        f"configuration now fails: {error}"
    )


def check_teardown(endpoint_url: str) -> int:
    """Every ticket ended and the configuration deleted: exit status 0, else 1."""
    tickets = EmulatorControl(endpoint_url).tickets(region=REGION)
    still_active = [t for t in tickets if t["Status"] not in FINAL_STATUSES]
    for ticket in tickets:
        say(f"  ticket {ticket['TicketId']}: {ticket['Status']}")
    if still_active:
        say(f"FAILED: {len(still_active)} of {len(tickets)} tickets still active")
        return 1
    say(f"all {len(tickets)} backfill tickets ended")
    error = delete_configuration(endpoint_url)
    if error is not None:
        say(f"FAILED: DeleteMatchmakingConfiguration {CONFIGURATION_NAME}: {error}")
        return 1
    say(f"DeleteMatchmakingConfiguration {CONFIGURATION_NAME}: deleted")
    return 0


# ---------------------------------------------------------------- the offline half


def drain(endpoint_url: str, timeout: int = DRAIN_TIMEOUT_SECONDS) -> int:
    """`python -m providers drain`, as a CI job would run it; its exit status."""
    command = [
        sys.executable, "-m", "providers", "drain",
        "--fleet-id", FLEET_ID,
        "--configuration-name", CONFIGURATION_NAME,
        "--region", REGION,
        "--endpoint-url", endpoint_url,
        "--timeout", str(timeout),
    ]  # fmt: skip
    say("$ python -m providers drain --fleet-id " + FLEET_ID + " ...")
    return subprocess.run(command, cwd=ROOT, env=demo_env(), check=False).returncode


def offline_teardown(endpoint_url: str, timeout: int = DRAIN_TIMEOUT_SECONDS) -> int:
    """The offline half's teardown: drain, then check and delete the configuration."""
    show_blocked_delete(endpoint_url)
    status = drain(endpoint_url, timeout)
    if status != 0:
        say(f"FAILED: the drain exited with status {status}")
    outcome = check_teardown(endpoint_url)
    return 1 if status != 0 else outcome


# ---------------------------------------------------------------- Pulumi


def demo_env() -> dict[str, str]:
    """Environment of every child: the emulator's credentials and the project's state."""
    return isolated_environ(
        AWS_REGION=REGION,
        PULUMI_BACKEND_URL=STATE_DIR.as_uri(),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_SKIP_UPDATE_CHECK="true",
    )


def find_pulumi() -> Path | None:
    """The project-local CLI, else one on PATH."""
    local = CLI_DIR / "bin" / "pulumi"
    if local.exists():
        return local
    on_path = shutil.which("pulumi")
    return Path(on_path) if on_path is not None else None


def install_pulumi() -> str | None:
    """Download the pinned CLI into CLI_DIR with the official installer; None on success,
    else why not."""
    if shutil.which("curl") is None:
        return "none on PATH, and no curl to download it"
    STATE_DIR.mkdir(exist_ok=True)
    installer = STATE_DIR / "get-pulumi.sh"
    say(f"installing the Pulumi CLI {PULUMI_VERSION} into {CLI_DIR.relative_to(ROOT)}/")
    steps = [
        ["curl", "-fsL", "--connect-timeout", "10", "-o", str(installer), PULUMI_INSTALLER],
        ["sh", str(installer), "--version", PULUMI_VERSION, "--install-root", str(CLI_DIR),
         "--no-edit-path"],
    ]  # fmt: skip
    for step in steps:
        if subprocess.run(step, check=False, stdout=sys.stderr).returncode != 0:
            return f"none on PATH, and installing it from {PULUMI_INSTALLER} failed"
    if not (CLI_DIR / "bin" / "pulumi").exists():
        return f"the installer did not put it in {CLI_DIR / 'bin'}"
    return None


def run_pulumi(cli: Path, *args: str) -> None:
    """One `pulumi` command on the local stack, in the project, or DemoError."""
    say(f"$ pulumi {' '.join(args)}")
    env = demo_env()
    env["PATH"] = f"{cli.parent}{os.pathsep}{env.get('PATH', '')}"  # its language plugins
    status = subprocess.run(
        [str(cli), *args, "--stack", STACK, "--non-interactive"], cwd=ROOT, env=env, check=False
    ).returncode
    if status != 0:
        raise DemoError(f"`pulumi {args[0]}` failed with exit status {status}")


def pulumi_up(cli: Path, endpoint_url: str) -> None:
    """`pulumi up` of the local stack, then more sessions as if players came meanwhile."""
    STATE_DIR.mkdir(exist_ok=True)
    run_pulumi(cli, "stack", "select", "--create")
    run_pulumi(cli, "up", "--yes")
    run_pulumi(cli, "stack", "output")
    seed_sessions(endpoint_url, SESSIONS_LATER)
    say("players came: more sessions, more automatic tickets the program never saw")


def pulumi_destroy(cli: Path, endpoint_url: str) -> int:
    """`pulumi destroy`: the guard drains every ticket, known to the stack or not."""
    show_blocked_delete(endpoint_url)
    run_pulumi(cli, "destroy", "--yes")
    return check_teardown(endpoint_url)


# ---------------------------------------------------------------- commands


def pulumi_cli_or_none(offline: bool) -> Path | None:
    """The CLI to use, installed if need be; None (said in one line) means the offline half."""
    if offline:
        say("offline mode: the Pulumi CLI is not used; running the offline half instead")
        return None
    cli = find_pulumi()
    if cli is None:
        reason = install_pulumi()
        if reason is not None:
            say(f"the Pulumi CLI is not available ({reason}): running the offline half instead")
            return None
        cli = find_pulumi()
    return cli


def check_port(cli: Path | None, port: int) -> None:
    """The local stack's config names the emulator's port: only the offline half may move it."""
    if cli is not None and port != PORT:
        raise DemoError(f"--port applies to the offline half only (the local stack uses {PORT})")


def command_demo(port: int, offline: bool) -> int:
    """Both halves with one emulator, stopped in every case."""
    cli = pulumi_cli_or_none(offline)
    check_port(cli, port)
    process, endpoint_url = start_emulator(port, detach=False)
    say(f"emulator at {endpoint_url} (pid {process.pid})")
    try:
        seed_infrastructure(endpoint_url)
        seed_sessions(endpoint_url, SESSIONS_AT_START)
        if cli is None:
            say("OFFLINE HALF: no `pulumi up` ran; draining with python -m providers")
            return offline_teardown(endpoint_url)
        pulumi_up(cli, endpoint_url)
        return pulumi_destroy(cli, endpoint_url)
    finally:
        stop_emulator(process)
        say("emulator stopped")


def command_up(port: int, offline: bool) -> int:
    """Start and seed the emulator, `pulumi up`; the emulator stays up for `make down`."""
    if (running := RunningEmulator.load()) is not None and _alive(running.pid):
        raise DemoError(
            f"an emulator from `make up` is running ({running.endpoint_url}); `make down` first"
        )
    cli = pulumi_cli_or_none(offline)
    check_port(cli, port)
    process, endpoint_url = start_emulator(port, detach=True)
    say(f"emulator at {endpoint_url} (pid {process.pid})")
    running = RunningEmulator(process.pid, endpoint_url, "offline" if cli is None else "pulumi")
    try:
        seed_infrastructure(endpoint_url)
        seed_sessions(endpoint_url, SESSIONS_AT_START)
        if cli is not None:
            pulumi_up(cli, endpoint_url)
    except BaseException:
        stop_emulator(process)
        raise
    running.save()
    assert process.stdout is not None
    process.stdout.close()
    if cli is None:
        say("OFFLINE HALF: the emulator is seeded, no `pulumi up` ran; `make down` drains it")
    say(f"emulator left running at {endpoint_url} (pid {process.pid}); `make down` ends it")
    return 0


def command_down(offline: bool) -> int:
    """`pulumi destroy` (or the offline drain), check, then stop the emulator of `make up`."""
    running = RunningEmulator.load()
    if running is None or not _alive(running.pid):
        RUN_FILE.unlink(missing_ok=True)
        raise DemoError("no emulator from `make up` is running: nothing to tear down")
    try:
        cli = None if offline or running.mode == "offline" else find_pulumi()
        if cli is None:
            if running.mode == "pulumi":
                raise DemoError("the stack was deployed with the Pulumi CLI, which is gone")
            say("OFFLINE HALF: no `pulumi destroy`; draining with python -m providers")
            return offline_teardown(running.endpoint_url)
        return pulumi_destroy(cli, running.endpoint_url)
    finally:
        stop_detached(running)
        say("emulator stopped")


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line; the exit status."""
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=("demo", "up", "down"), nargs="?", default="demo")
    parser.add_argument(
        "--offline",
        action="store_true",
        default=os.environ.get(OFFLINE_ENV, "") not in ("", "0"),
        help=f"never use or download the Pulumi CLI (also {OFFLINE_ENV}=1)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"emulator port for the offline half (0: any free one); default {PORT}, the "
        "local stack's",
    )
    args = parser.parse_args(argv)
    port = PORT if args.port is None else args.port
    try:
        if args.command == "demo":
            return command_demo(port, args.offline)
        if args.command == "up":
            return command_up(port, args.offline)
        return command_down(args.offline)
    except DemoError as error:
        say(f"FAILED: {error}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
