"""``gamelift-backfill`` (or ``python -m providers``): stop, drain and status of backfill
tickets outside Pulumi.

For scripts and CI jobs: the same core as the resources (``stop`` is a BackfillTicket
delete, ``drain`` a BackfillGuard delete). Common options are accepted before or after
the command's arguments, as the AWS CLI accepts them::

    python -m providers --region us-east-1 drain --fleet-id fleet-1 --json
    python -m providers stop TICKET_ID... --timeout 300
    python -m providers status TICKET_ID...
    python -m providers doctor state.json --live   (gamelift_backfill/doctor/command.py)

Exit status (click style, from the error classes of ``gamelift_backfill.core.errors``): 0 only
when nothing asked about is still active; 2 for bad arguments (nothing is called); 3
NOT_FOUND, 4 THROTTLED, 5 AUTH_ERROR, 6 CONNECTION_ERROR, 7 TIMEOUT (or, for ``status``,
tickets still active), 8 ``doctor`` found something to fix, 1 anything else. ``--json``
prints exactly one JSON object on stdout: ``{"success": true, "data": {...}}`` or
``{"success": false, "error": {"code": "...", "message": "..."}}``.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn, TextIO

from gamelift_backfill.behaviour.common import Waiting
from gamelift_backfill.behaviour.guard import Guard
from gamelift_backfill.behaviour.guard import validated as guard_validated
from gamelift_backfill.core.errors import (
    BackfillError,
    Failure,
    InputError,
    NotFoundError,
    ServiceError,
    StopTimeoutError,
)
from gamelift_backfill.core.tickets import (
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_STOP_TIMEOUT_SECONDS,
    GONE,
    OnEvent,
    ProgressEvent,
    ProgressTally,
    describe_tickets,
)
from gamelift_backfill.core.waiters import is_active
from gamelift_backfill.declaration import (
    CLI_SPELLING,
    GUARD,
    Property,
    ResourceDeclaration,
    option_names,
)
from gamelift_backfill.doctor import command as doctor_command
from gamelift_backfill.translate import (
    CLI,
    ProviderConfig,
    Where,
    endpoint_or_raise,
    normalise,
    phrase,
    region_for,
)

PROG = "python -m providers"
CONSOLE_COMMAND = "gamelift-backfill"  # the console script (pyproject.toml)
# `status` with tickets still active: the same code as "still active at the deadline".
STILL_ACTIVE_EXIT_CODE = StopTimeoutError.exit_code
# How the core names a property -> how the command line spells it (the declaration's).
OPTION_NAMES = option_names()
# Options every command takes (_common_options); drain takes the guard's others.
COMMON_OPTIONS = ("region", "endpoint_url", "stop_timeout_seconds", "max_concurrency")
# A property named in a reason ("needs configuration_name") as the option that sets it.
# Only names with an underscore: "region" is also a word.
_OPTION_WORDS = re.compile(
    r"\b(" + "|".join(re.escape(name) for name in OPTION_NAMES if "_" in name) + r")\b"
)
# Positional on stop and status: a failure there names the argument, not an option.
POSITIONAL = {"ticket_ids": "TICKET_ID"}
PROGRESS_INTERVAL_SECONDS = 0.2


class _ArgumentError(Exception):
    """argparse refused the command line (raised instead of argparse's own exit)."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises, so a usage error can be put in the JSON envelope.

    Abbreviations are off: `--js` must not quietly mean `--json` for argparse while the
    envelope logic, which looks for the exact option, prints text.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        raise _ArgumentError(message)


def _common_options(suppress: bool) -> _Parser:
    """The options every command takes; ``suppress`` for the subcommands' copies.

    With ``default=SUPPRESS`` on the subcommand's copy, an option given before the command
    is not overwritten by the subcommand's default.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    common = _Parser(add_help=False)
    group = common.add_argument_group("common options")
    group.add_argument("--region", default=default(None), help="AWS region (default: AWS_REGION)")
    group.add_argument(
        "--endpoint-url",
        default=default(None),
        help="GameLift endpoint: https://..., or http:// to a loopback host "
        "(default: AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL, then AWS)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=default(DEFAULT_STOP_TIMEOUT_SECONDS),
        help=f"seconds to wait until nothing is active (default: {DEFAULT_STOP_TIMEOUT_SECONDS:g})",
    )
    group.add_argument(
        "--max-concurrency",
        type=int,
        default=default(DEFAULT_MAX_CONCURRENCY),
        help=f"StopMatchmaking calls at once (default: {DEFAULT_MAX_CONCURRENCY})",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON object on stdout",
    )
    return common


def build_parser(guard: ResourceDeclaration = GUARD) -> argparse.ArgumentParser:
    """The command line: common options on the main parser and on every subcommand;
    ``drain`` takes the guard's other inputs that have an option."""
    invoked = Path(sys.argv[0]).name if sys.argv else ""
    parser = _Parser(
        prog=CONSOLE_COMMAND if invoked == CONSOLE_COMMAND else PROG,
        description="Stop GameLift FlexMatch backfill tickets and wait until they ended.",
        parents=[_common_options(suppress=False)],
    )
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub_common = [_common_options(suppress=True)]
    stop = commands.add_parser(
        "stop", parents=sub_common, help="stop tickets and wait until each ended"
    )
    stop.add_argument("ticket_ids", nargs="+", metavar="TICKET_ID")
    drain_cmd = commands.add_parser(
        "drain",
        parents=sub_common,
        help="stop every active backfill ticket of the fleets' game sessions",
    )
    for prop in guard.inputs:
        if prop.option and prop.name not in COMMON_OPTIONS:
            _add_declared(drain_cmd, prop, guard)
    status = commands.add_parser("status", parents=sub_common, help="show tickets' status")
    status.add_argument("ticket_ids", nargs="+", metavar="TICKET_ID")
    doctor_command.add_parser(commands)
    return parser


def _add_declared(
    parser: argparse.ArgumentParser, prop: Property, guard: ResourceDeclaration
) -> None:
    """One option as the declaration describes the property: a list is repeatable, a
    boolean a flag, an integer typed."""
    assert prop.option is not None
    help_text = CLI_SPELLING.describe(prop, guard.properties)
    if prop.type.endswith("[]"):
        parser.add_argument(
            prop.option,
            dest=prop.name,
            action="append",
            required=prop.required,
            default=None if prop.required else [],
            metavar=prop.name.removesuffix("s").upper(),
            help=f"{help_text} (repeatable)",
        )
    elif prop.type == "boolean":
        parser.add_argument(
            prop.option, dest=prop.name, action="store_true", default=False, help=help_text
        )
    else:
        parser.add_argument(
            prop.option,
            dest=prop.name,
            type=int if prop.type == "integer" else str,
            required=prop.required,
            default=prop.default,
            help=help_text,
        )


def declared_inputs(args: argparse.Namespace, guard: ResourceDeclaration = GUARD) -> dict[str, Any]:
    """The guard's inputs as drain's options gave them (snake_case, as the core names them)."""
    return {p.name: getattr(args, p.name) for p in guard.inputs if hasattr(args, p.name)}


def _validated(args: argparse.Namespace) -> tuple[str, str | None]:
    """Check every argument offline with the core's rules; the resolved region and endpoint.

    Raises InputError (VALIDATION_ERROR) naming the options at fault: nothing is called.
    """
    inputs: dict[str, Any] = {
        "region": args.region,
        "endpoint_url": args.endpoint_url,
        "stop_timeout_seconds": args.timeout,
        "max_concurrency": args.max_concurrency,
        "ticket_ids": args.ticket_ids,
    }
    if args.command == "drain":
        inputs.update(
            (name, value)
            for name, value in declared_inputs(args).items()
            if name not in COMMON_OPTIONS
        )
    # drain's inputs are a guard's: the guard's own rules (the opt-in needs a configuration).
    _, failures = guard_validated(inputs) if args.command == "drain" else normalise(inputs)
    if failures:
        raise InputError([_as_option(failure, args.command) for failure in failures])
    try:
        region = region_for(args.region, ProviderConfig())
    except InputError as error:
        raise InputError(
            [_as_option(f, args.command) for f in error.failures], error.remedies
        ) from None
    # From AWS_ENDPOINT_URL(_GAMELIFT) or the profile: the same rule as --endpoint-url.
    return region, endpoint_or_raise(args.endpoint_url, ProviderConfig(), "--endpoint-url")


def _as_option(failure: Failure, command: str) -> Failure:
    """``fleet_ids[1]: ...`` -> ``--fleet-id[1]: ...``; stop's and status's ticket IDs
    (positional) are ``TICKET_ID[0]``."""
    names = {**OPTION_NAMES, **(POSITIONAL if command != "drain" else {})}
    reason = _OPTION_WORDS.sub(lambda m: OPTION_NAMES[m.group(0)], failure.reason)
    for name, option in names.items():
        if failure.field == name or failure.field.startswith(name + "["):
            return Failure(option + failure.field[len(name) :], reason)
    return Failure(failure.field, reason)


class Progress:
    """A one-line progress display on a terminal's stderr; silent elsewhere.

    Fed by the core's progress events (from the one thread that drives the work).
    """

    def __init__(self, stream: TextIO, label: str) -> None:
        self.stream = stream
        self.enabled = stream.isatty()
        self.label = label
        self.tally = ProgressTally()
        self.shown_at = 0.0
        self.shown = False

    def on_event(self, event: ProgressEvent) -> None:
        """Count the event and redraw at most every PROGRESS_INTERVAL_SECONDS."""
        self.tally.count(event)
        self.draw()

    def draw(self, force: bool = False) -> None:
        """Rewrite the progress line in place."""
        now = time.monotonic()
        if not self.enabled or (not force and now - self.shown_at < PROGRESS_INTERVAL_SECONDS):
            return
        self.shown_at, self.shown = now, True
        tally = self.tally
        found = f"{tally.found} found, " if self.label == "drain" else ""
        self.stream.write(
            f"\r{self.label}: {found}{tally.stopped} stopped, "
            f"{tally.already_final} already final, {len(tally.pending)} remaining   "
        )
        self.stream.flush()

    def close(self) -> None:
        """End the progress line so later output starts on a fresh line."""
        if self.shown:
            self.draw(force=True)
            self.stream.write("\n")
            self.stream.flush()


# -- commands: each returns (data, exit code, readable lines) -----------------------------

Outcome = tuple[dict[str, Any], int, list[str]]


def run_stop(args: argparse.Namespace, where: Where, on_event: OnEvent) -> Outcome:
    """Stop each ticket and wait until it is no longer active (a BackfillTicket delete)."""
    report = where.stop(args.ticket_ids, args.timeout, on_event)
    data: dict[str, Any] = {
        "tickets": [
            {"ticket_id": ticket_id, "status": status}
            for ticket_id, status in report.final_status.items()
        ],
        "stopped": report.stopped,
        "waited_out": report.waited_out,
        "already_final": report.already_final,
        "stop_calls": report.stop_calls,
        "describe_calls": report.describe_calls,
    }
    lines = [f"{t['ticket_id']}\t{t['status']}" for t in data["tickets"]]
    lines.append(
        f"{len(report.final_status)} ticket(s) no longer active: {len(report.stopped)} "
        f"stopped, {len(report.waited_out)} waited out, {len(report.already_final)} "
        "already final"
    )
    return data, 0, lines


class _Quiet:
    """The command line's log: its progress line and its error output already say it all."""

    def info(self, msg: str) -> None:
        """Nothing: the progress line shows the counts."""

    def warn(self, msg: str) -> None:
        """Nothing: a missing fleet is an error of its own here (run_drain)."""

    def error(self, msg: str) -> None:
        """Nothing: the error itself is printed, with the command line's fix."""


def run_drain(args: argparse.Namespace, where: Where, on_event: OnEvent) -> Outcome:
    """Stop every active backfill ticket of the fleets: a BackfillGuard delete, by the
    guard's own behaviour, with the options as its inputs."""
    props = {
        **declared_inputs(args),
        "region": where.region,
        "endpoint_url": where.endpoint_url,
        "stop_timeout_seconds": args.timeout,
        "max_concurrency": where.max_concurrency,
    }
    guard = Guard(ProviderConfig(), CLI, _Quiet())
    report = guard.delete("drain", props, Waiting(on_event=on_event))
    if report.missing_fleets:
        # Unlike the guard (whose fleets may be gone at destroy), a fleet named on the
        # command line that does not exist is most likely a typo or the wrong region.
        raise NotFoundError(
            f"fleet(s) {', '.join(report.missing_fleets)} not found in region "
            f"{where.region}; the other fleets were drained "
            f"({report.found_active} active ticket(s) stopped). Check --fleet-id and --region."
        )
    data = {"fleet_ids": args.fleet_ids, **asdict(report)}
    lines = [
        f"drained {', '.join(args.fleet_ids)}: {report.found_active} active backfill "
        f"ticket(s) found, {report.stopped} stopped, {report.waited_out} waited out, "
        f"{report.already_final} already final, 0 remaining "
        f"({report.passes} pass(es), {report.sessions} game session(s))"
    ]
    return data, 0, lines


def run_status(args: argparse.Namespace, where: Where, on_event: OnEvent) -> Outcome:
    """Each ticket's status; exit 0 only when none of them is active."""
    found = describe_tickets(where.client(), args.ticket_ids)
    tickets = []
    for ticket_id in dict.fromkeys(args.ticket_ids):
        ticket = found.get(ticket_id, {})
        status = str(ticket.get("Status", GONE))
        tickets.append(
            {
                "ticket_id": ticket_id,
                "status": status,
                "status_reason": ticket.get("StatusReason"),
                "active": is_active(status),
            }
        )
    active = sum(1 for t in tickets if t["active"])
    lines = [
        f"{t['ticket_id']}\t{t['status']}\t{'active' if t['active'] else 'not active'}"
        for t in tickets
    ]
    lines.append(f"{active} of {len(tickets)} ticket(s) active")
    return {"tickets": tickets, "active": active}, STILL_ACTIVE_EXIT_CODE if active else 0, lines


COMMANDS: Mapping[str, Callable[[argparse.Namespace, Where, OnEvent], Outcome]] = {
    "stop": run_stop,
    "drain": run_drain,
    "status": run_status,
}


def _wants_json(argv: Sequence[str]) -> bool:
    """Whether ``--json`` was asked for, even on a command line argparse refuses."""
    options = argv[: list(argv).index("--")] if "--" in argv else argv
    return "--json" in options


def _emit_error(error: BackfillError, as_json: bool, stdout: TextIO, stderr: TextIO) -> int:
    """The error, with this front end's fix, as the envelope or one line; its exit code."""
    phrase(error, CLI)
    if as_json:
        envelope = {"success": False, "error": {"code": error.code, "message": str(error)}}
        stdout.write(json.dumps(envelope) + "\n")
    else:
        stderr.write(f"error ({error.code}): {error}\n")
    return error.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return the exit status (see the module docstring)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    stdout, stderr = sys.stdout, sys.stderr
    as_json = _wants_json(argv)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help: argparse printed it
        return int(exit_.code or 0)
    except _ArgumentError as exc:
        if not as_json:
            parser.print_usage(stderr)
        usage = InputError([Failure("arguments", str(exc))])
        return _emit_error(usage, as_json, stdout, stderr)
    if args.command == "doctor":  # reads a state export; its own checks and output
        return doctor_command.run(args, stdout, stderr)
    progress = Progress(stderr, args.command)
    try:
        region, endpoint = _validated(args)
        where = Where(region, endpoint, args.max_concurrency)
        data, code, lines = COMMANDS[args.command](args, where, progress.on_event)
    except BackfillError as error:
        progress.close()
        return _emit_error(error, as_json, stdout, stderr)
    except Exception as exc:  # a bug or an unforeseen failure: still one envelope
        progress.close()
        unforeseen = ServiceError(f"{type(exc).__name__}: {exc}")
        return _emit_error(unforeseen, as_json, stdout, stderr)
    progress.close()
    if as_json:
        stdout.write(json.dumps({"success": True, "data": data}) + "\n")
    else:
        stdout.write("".join(line + "\n" for line in lines))
    return code
