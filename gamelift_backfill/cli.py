"""``gamelift-backfill`` (or ``python -m providers``): stop, drain and status of backfill
tickets outside Pulumi.

For scripts and CI jobs: the same core as the resources (``stop`` is a BackfillTicket
delete, ``drain`` a BackfillGuard delete). Common options are accepted before or after
the command's arguments, as the AWS CLI accepts them::

    python -m providers --region us-east-1 drain --fleet-id fleet-1 --json
    python -m providers stop TICKET_ID... --timeout 300
    python -m providers status TICKET_ID...

Exit status (click style, from the error classes of ``gamelift_backfill.core.errors``): 0 only
when nothing asked about is still active; 2 for bad arguments (nothing is called); 3
NOT_FOUND, 4 THROTTLED, 5 AUTH_ERROR, 6 CONNECTION_ERROR, 7 TIMEOUT (or, for ``status``,
tickets still active), 1 anything else. ``--json`` prints exactly one JSON object on
stdout: ``{"success": true, "data": {...}}`` or
``{"success": false, "error": {"code": "...", "message": "..."}}``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, NoReturn, TextIO

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
# How the core names a property -> how the command line spells it.
OPTION_NAMES = {
    "fleet_ids": "--fleet-id",
    "configuration_name": "--configuration-name",
    "region": "--region",
    "endpoint_url": "--endpoint-url",
    "stop_timeout_seconds": "--timeout",
    "max_concurrency": "--max-concurrency",
}
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
        help="seconds to wait until nothing is active (default: %(default)s)",
    )
    group.add_argument(
        "--max-concurrency",
        type=int,
        default=default(DEFAULT_MAX_CONCURRENCY),
        help="StopMatchmaking calls at once (default: %(default)s)",
    )
    group.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="print one JSON object on stdout",
    )
    return common


def build_parser() -> argparse.ArgumentParser:
    """The command line: common options on the main parser and on every subcommand."""
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
    drain_cmd.add_argument(
        "--fleet-id",
        dest="fleet_ids",
        action="append",
        required=True,
        metavar="FLEET",
        help="fleet ID, fleet ARN or alias ID (repeatable)",
    )
    drain_cmd.add_argument(
        "--configuration-name",
        help="only sessions matched by this configuration (name or ARN)",
    )
    drain_cmd.add_argument(
        "--ticket-id",
        dest="ticket_ids",
        action="append",
        default=[],
        metavar="TICKET_ID",
        help="an extra ticket to stop (repeatable)",
    )
    status = commands.add_parser("status", parents=sub_common, help="show tickets' status")
    status.add_argument("ticket_ids", nargs="+", metavar="TICKET_ID")
    return parser


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
        inputs.update(fleet_ids=args.fleet_ids, configuration_name=args.configuration_name)
    _, failures = normalise(inputs)
    if failures:
        raise InputError([_as_option(failure) for failure in failures])
    try:
        region = region_for(args.region, ProviderConfig())
    except InputError as error:
        raise InputError([_as_option(f) for f in error.failures], error.remedies) from None
    # From AWS_ENDPOINT_URL(_GAMELIFT) or the profile: the same rule as --endpoint-url.
    return region, endpoint_or_raise(args.endpoint_url, ProviderConfig(), "--endpoint-url")


def _as_option(failure: Failure) -> Failure:
    """``fleet_ids[1]: ...`` -> ``--fleet-id[1]: ...``; ticket IDs keep their position."""
    for name, option in OPTION_NAMES.items():
        if failure.field == name or failure.field.startswith(name + "["):
            return Failure(option + failure.field[len(name) :], failure.reason)
    if failure.field.startswith("ticket_ids"):
        return Failure("TICKET_ID" + failure.field[len("ticket_ids") :], failure.reason)
    return failure


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


def run_drain(args: argparse.Namespace, where: Where, on_event: OnEvent) -> Outcome:
    """Stop every active backfill ticket of the fleets (a BackfillGuard delete)."""
    report = where.drain(
        args.fleet_ids,
        configuration_name=args.configuration_name,
        ticket_ids=args.ticket_ids,
        timeout_seconds=args.timeout,
        on_event=on_event,
    )
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
