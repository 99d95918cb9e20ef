"""The local demo: `make demo` (both halves), `make up`, `make down`. No AWS account.

It starts the GameLift emulator in the background on the port of the committed `local`
stack (Pulumi.local.yaml), seeds it as a live preview environment would be (a fleet, a
queue, the two-team rule set, a configuration with automatic backfill; players who queue,
are matched by FlexMatch and placed in game sessions, a late player backfilled in; the
automatic backfill tickets no program knows about), then runs `pulumi up` and
`pulumi destroy` of the local stack with a file state backend in `.pulumi-state/`, and
shows that every ticket ended and the configuration could be deleted.

The CLI is the one on PATH, else the one `make setup` built into `.pulumi-cli/bin/`; nothing
is ever downloaded (a Pulumi home of the demo's own, automatic plugin downloads off). A CLI
without `pulumi-language-python` (the built one: that host cannot be built here) runs
`pulumi up` through the Automation API (testkit/inline_program.py: the same CLI, engine and
state, the SDK serving the program), and the demo says so in one line; `pulumi destroy`
is always the plain command.

Without a Pulumi CLI, or with `--offline` / GAMELIFT_DEMO_OFFLINE=1, it says so in one
line and runs the offline half instead: the same seeded emulator drained by
`python -m providers drain`, then the configuration deleted. The exit status is 0 only
when every ticket ended and the configuration was deleted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
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
from testkit.pulumi_cli import BUILT_CLI, INLINE_PROGRAM  # noqa: E402
from testkit.seeding import seed_configuration  # noqa: E402

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
PULUMI_HOME = STATE_DIR / "pulumi-home"
"""The demo's own Pulumi home: no plugin of this machine's ~/.pulumi, nothing written there."""
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


# Players of each new session play from a region of their own: the rule set's latency rule
# (150 ms) keeps regions apart, so each group forms a match of its own.
PLAYER_REGIONS = (
    "us-east-1", "us-west-2", "eu-west-1", "eu-central-1",
    "ap-northeast-1", "ap-southeast-2", "sa-east-1", "ca-central-1",
)  # fmt: skip
MATCH_TIMEOUT_SECONDS = 30


def queue_players(client: Any, players: Sequence[tuple[str, str]]) -> list[str]:
    """StartMatchmaking for each (player ID, region), one player per request; ticket IDs."""
    return [
        client.start_matchmaking(
            ConfigurationName=CONFIGURATION_NAME,
            Players=[
                {
                    "PlayerId": player_id,
                    "PlayerAttributes": {"skill": {"N": 10}},
                    "LatencyInMs": {region: 30},
                }
            ],
        )["MatchmakingTicket"]["TicketId"]
        for player_id, region in players
    ]


def wait_for_matches(client: Any, ticket_ids: Sequence[str]) -> list[dict[str, Any]]:
    """Poll DescribeMatchmaking (10 IDs a call) until every ticket COMPLETED; the tickets."""
    deadline = time.monotonic() + MATCH_TIMEOUT_SECONDS
    while True:
        tickets = [
            ticket
            for start in range(0, len(ticket_ids), 10)
            for ticket in client.describe_matchmaking(
                TicketIds=list(ticket_ids[start : start + 10])
            )["TicketList"]
        ]
        ended = [t for t in tickets if t["Status"] in FINAL_STATUSES - {"COMPLETED"}]
        if ended:
            raise DemoError(f"matchmaking ticket {ended[0]['TicketId']} ended {ended[0]['Status']}")
        if len(tickets) == len(ticket_ids) and all(t["Status"] == "COMPLETED" for t in tickets):
            return tickets
        if time.monotonic() > deadline:
            raise DemoError(f"players were not matched within {MATCH_TIMEOUT_SECONDS} s")
        time.sleep(0.2)


def seed_sessions(endpoint_url: str, count: int) -> list[str]:
    """Game sessions made by real matchmaking, then backfilled, as a live game leaves them:
    players queue, each region's group is matched and placed on the fleet (not full: GameLift
    starts an automatic backfill ticket for it), then a late player joins the oldest new
    session through its automatic backfill. Returns the automatic tickets now active.

    Call it once per emulator, before any backfill ticket is active: the emulator tries
    active backfill tickets first in each matching pass, and their current players carry no
    latency, so the latency rule does not keep regions apart; a group queued then may be
    split, some players backfilled into older sessions and the rest (fewer than a match
    needs) left SEARCHING. Later sessions come from `sessions_came`."""
    client = gamelift(endpoint_url)
    before = client.describe_game_sessions(FleetId=FLEET_ID)["GameSessions"]
    first = len(before)
    groups = [
        [(f"player-{first + i}-{k}", PLAYER_REGIONS[(first + i) % len(PLAYER_REGIONS)])
         for k in range(4 + i % 3)]
        for i in range(count)
    ]  # fmt: skip
    placed = wait_for_matches(client, queue_players(client, [p for g in groups for p in g]))
    arns = list(dict.fromkeys(t["GameSessionConnectionInfo"]["GameSessionArn"] for t in placed))
    say(
        f"{sum(len(g) for g in groups)} players queued; FlexMatch placed {len(arns)} matches "
        f"on {FLEET_ID}: " + ", ".join(_occupancy(client, arn) for arn in arns)
    )
    if arns:
        late = [(f"player-{first}-late", groups[0][0][1])]
        (joined,) = wait_for_matches(client, queue_players(client, late))
        arn = joined["GameSessionConnectionInfo"]["GameSessionArn"]
        say(f"a late player joined through automatic backfill: {_occupancy(client, arn)}")
    tickets = [_auto_ticket(client, arn) for arn in arns]
    say(f"{len(arns)} game sessions not full: automatic backfill tickets {', '.join(tickets)}")
    return tickets


def sessions_came(endpoint_url: str, count: int) -> list[str]:
    """``count`` more non-full game sessions of the configuration on the fleet, placed
    through the emulator's control API (as a match's placement leaves them); GameLift starts
    an automatic backfill ticket for each. Returns those tickets.

    Not by queueing players, as `seed_sessions` does: with backfill tickets active that
    races them (see there), and failed about one run in seven."""
    control = EmulatorControl(endpoint_url)
    tickets = [
        str(
            control.create_game_session(FLEET_ID, CONFIGURATION_NAME, 4 + i % 3, 8, region=REGION)[
                "auto_backfill_ticket_id"
            ]
        )
        for i in range(count)
    ]
    say(
        f"players came: {count} more game sessions on {FLEET_ID}, automatic backfill "
        f"tickets {', '.join(tickets)}: tickets the program never saw"
    )
    return tickets


def _session(client: Any, arn: str) -> dict[str, Any]:
    (session,) = client.describe_game_sessions(GameSessionId=arn)["GameSessions"]
    return dict(session)


def _occupancy(client: Any, arn: str) -> str:
    session = _session(client, arn)
    name = arn.rsplit("/", 1)[-1]
    return f"{name} ({session['CurrentPlayerSessionCount']}/{session['MaximumPlayerSessionCount']})"


def _auto_ticket(client: Any, arn: str) -> str:
    data = json.loads(_session(client, arn)["MatchmakerData"])
    return str(data["autoBackfillTicketId"])


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
    backfill = [t for t in tickets if t.get("GameSessionArn")]
    for ticket in backfill:
        say(f"  backfill ticket {ticket['TicketId']}: {ticket['Status']}")
    if still_active:
        for ticket in still_active:
            say(f"  still active: ticket {ticket['TicketId']} ({ticket['Status']})")
        say(f"FAILED: {len(still_active)} of {len(tickets)} tickets still active")
        return 1
    say(
        f"all {len(tickets)} tickets ended ({len(backfill)} backfill, "
        f"{len(tickets) - len(backfill)} the players' own matchmaking)"
    )
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


def demo_env(cli: Path | None = None) -> dict[str, str]:
    """Environment of every child: the emulator's credentials, the project's state, the
    demo's own Pulumi home with plugin downloads off, and the CLI's folder first on PATH
    (the engine finds its language hosts and the dynamic provider's plugin there)."""
    env = isolated_environ(
        AWS_REGION=REGION,
        PULUMI_BACKEND_URL=STATE_DIR.as_uri(),
        PULUMI_CONFIG_PASSPHRASE=PASSPHRASE,
        PULUMI_HOME=str(PULUMI_HOME),
        PULUMI_SKIP_UPDATE_CHECK="true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION="true",
        PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK="true",
    )
    if cli is not None:
        env["PATH"] = f"{cli.parent}{os.pathsep}{env.get('PATH', '')}"
    # gRPC's C core sends even loopback calls (the engine <-> SDK, plugins) through an
    # https_proxy unless no_proxy names the host: keep them local behind a proxy.
    for name in ("no_proxy", "NO_PROXY"):
        env[name] = ",".join(filter(None, (env.get(name), "127.0.0.1", "localhost")))
    return env


def find_pulumi() -> Path | None:
    """The CLI on PATH, else the one `make setup` built; None when neither exists."""
    on_path = shutil.which("pulumi")
    if on_path is not None:
        return Path(on_path)
    return BUILT_CLI if BUILT_CLI.exists() else None


def has_python_host(cli: Path) -> bool:
    """Whether the engine of ``cli`` can run a Python program itself: a
    ``pulumi-language-python`` beside it or on PATH."""
    return shutil.which("pulumi-language-python", path=demo_env(cli)["PATH"]) is not None


@contextlib.contextmanager
def keeping_stack_file() -> Iterator[None]:
    """The committed Pulumi.<stack>.yaml as it was after the block: creating the stack and
    the Automation API's `up` rewrite it (comments and `secretsprovider` dropped, numbers
    quoted); the content that matters (salt, config) is the same."""
    stack_file = ROOT / f"Pulumi.{STACK}.yaml"
    committed = stack_file.read_bytes()
    try:
        yield
    finally:
        if stack_file.read_bytes() != committed:
            stack_file.write_bytes(committed)


def run_pulumi(cli: Path, *args: str) -> None:
    """One `pulumi` command on the local stack, in the project, or DemoError."""
    say(f"$ pulumi {' '.join(args)}")
    status = subprocess.run(
        [str(cli), *args, "--stack", STACK, "--non-interactive"],
        cwd=ROOT,
        env=demo_env(cli),
        check=False,
    ).returncode
    if status != 0:
        raise DemoError(f"`pulumi {args[0]}` failed with exit status {status}")


def automation_up(cli: Path) -> None:
    """`pulumi up` of the local stack through the Automation API, with ``cli``."""
    inline = INLINE_PROGRAM.relative_to(ROOT)
    say(f"$ python -P {inline} up --stack {STACK}")
    status = subprocess.run(
        [sys.executable, "-P", str(INLINE_PROGRAM), "up", "--stack", STACK],
        cwd=ROOT,
        # Under the Automation API the engine passes no `virtualenv` option to the dynamic
        # provider's plugin: this variable is how it passes it otherwise.
        env={**demo_env(cli), "PULUMI_RUNTIME_VIRTUALENV": sys.prefix},
        check=False,
    ).returncode
    if status != 0:
        raise DemoError(f"`pulumi up` (Automation API) failed with exit status {status}")


def pulumi_up(cli: Path, endpoint_url: str) -> None:
    """`pulumi up` of the local stack, then more sessions as if players came meanwhile."""
    STATE_DIR.mkdir(exist_ok=True)
    with keeping_stack_file():
        run_pulumi(cli, "stack", "select", "--create")
        if has_python_host(cli):
            run_pulumi(cli, "up", "--yes")
        else:
            say(
                f"{cli} has no pulumi-language-python (the CLI `make setup` builds cannot "
                "have it): `pulumi up` runs through the Automation API, same CLI, engine and "
                "state"
            )
            automation_up(cli)
        run_pulumi(cli, "stack", "output")
    sessions_came(endpoint_url, SESSIONS_LATER)


def pulumi_destroy(cli: Path, endpoint_url: str) -> int:
    """`pulumi destroy`: the guard drains every ticket, known to the stack or not."""
    show_blocked_delete(endpoint_url)
    with keeping_stack_file():
        run_pulumi(cli, "destroy", "--yes")
    return check_teardown(endpoint_url)


# ---------------------------------------------------------------- commands


def pulumi_cli_or_none(offline: bool) -> Path | None:
    """The CLI to use; None (said in one line) means the offline half."""
    if offline:
        say("offline mode: the Pulumi CLI is not used; running the offline half instead")
        return None
    cli = find_pulumi()
    if cli is None:
        say(
            "the Pulumi CLI is not available (none on PATH, and none built: `make setup` "
            "builds one where go is installed): running the offline half instead"
        )
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
        help=f"never use the Pulumi CLI (also {OFFLINE_ENV}=1)",
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
