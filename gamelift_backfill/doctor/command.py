"""The ``doctor`` subcommand: read a state export, apply the rules, print the findings.

    python -m providers doctor state.json [--live] [--region R] [--endpoint-url URL] [--json]
    pulumi stack export --show-secrets | python -m providers doctor -

Exit status: 0 when there is nothing to fix, ``FINDINGS_EXIT_CODE`` (8) when there are
findings, and the CLI's error codes otherwise (2 for an unreadable or wrong export).
"""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any, TextIO

from gamelift_backfill.core.errors import BackfillError, ServiceError

from .live import check_live
from .model import Finding
from .rules import check_state
from .state import parse_export, read_source

FINDINGS_EXIT_CODE = 8
"""Findings to fix (no other command exits 8; see the CLI's exit-status table)."""
WIDTH = 100


def add_parser(commands: Any) -> None:
    """Add ``doctor`` to the CLI's subcommands (``commands`` from add_subparsers).

    Its options are its own: the CLI's shared ones (--timeout, --max-concurrency) mean
    nothing here. Each defaults to SUPPRESS so a value given before ``doctor`` stays.
    """
    doctor = commands.add_parser(
        "doctor",
        help="why a teardown will stall, or is stalled, and the exact fix",
        description="Read a `pulumi stack export` (file or - for stdin) and report what "
        f"would stall `pulumi destroy`; exit {FINDINGS_EXIT_CODE} when there is something "
        "to fix.",
    )
    doctor.add_argument("state", metavar="STATE", help="export file, or - for stdin")
    doctor.add_argument(
        "--live",
        action="store_true",
        help="also ask GameLift (read calls only) which tickets hold each configuration",
    )
    suppress = argparse.SUPPRESS
    doctor.add_argument(
        "--region", default=suppress, help="with --live: the region (default: each state's)"
    )
    doctor.add_argument(
        "--endpoint-url", default=suppress, help="with --live: the endpoint (default: each state's)"
    )
    doctor.add_argument(
        "--json", action="store_true", default=suppress, help="print one JSON object on stdout"
    )


def run(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """Run the doctor; print text or the JSON envelope; return the exit status."""
    try:
        stack = parse_export(read_source(args.state), args.state)
        findings = check_state(stack)
        live: list[dict[str, Any]] | None = None
        if args.live:
            live_findings, live = check_live(stack, args.region, args.endpoint_url)
            findings += live_findings
    except BackfillError as error:
        return _error(error, args.json, stdout, stderr)
    except Exception as exc:  # a bug: still one clear line or envelope, no traceback
        return _error(ServiceError(f"{type(exc).__name__}: {exc}"), args.json, stdout, stderr)
    data: dict[str, Any] = {
        "state": args.state,
        "resources": len(stack.resources),
        "findings": [finding.as_dict() for finding in findings],
        "notes": stack.notes,
    }
    if live is not None:
        data["live"] = live
    if args.json:
        stdout.write(json.dumps({"success": True, "data": data}) + "\n")
    else:
        stdout.write(render(args.state, len(stack.resources), findings, stack.notes, live))
    return FINDINGS_EXIT_CODE if findings else 0


def _error(error: BackfillError, as_json: bool, stdout: TextIO, stderr: TextIO) -> int:
    if as_json:
        envelope = {"success": False, "error": {"code": error.code, "message": error.message}}
        stdout.write(json.dumps(envelope) + "\n")
    else:
        stderr.write(f"error ({error.code}): {error.message}\n")
    return error.exit_code


def _wrap(label: str, text: str) -> list[str]:
    lines: list[str] = []
    indent = "   "
    for index, paragraph in enumerate(text.split("\n")):
        first = f"{indent}{label}: " if index == 0 else indent + "  "
        if paragraph.startswith("    "):  # code: keep as written
            lines.append(indent + "  " + paragraph[2:] if index else first + paragraph)
            continue
        lines += textwrap.wrap(
            _glue_commands(paragraph),
            WIDTH,
            initial_indent=first,
            subsequent_indent=indent + "  ",
            break_on_hyphens=False,
            break_long_words=False,
        )
    return [line.replace(_GLUE, " ") for line in lines]


_GLUE = "\x00"


def _glue_commands(text: str) -> str:
    """Spaces inside `...` made unbreakable, so a command is never split across lines."""
    parts = text.split("`")
    return "`".join(p.replace(" ", _GLUE) if i % 2 else p for i, p in enumerate(parts))


def render(
    source: str,
    count: int,
    findings: list[Finding],
    notes: list[str],
    live: list[dict[str, Any]] | None,
) -> str:
    """The readable report."""
    lines = [f"doctor: {source}: {count} resource(s), {len(findings)} finding(s)"]
    for number, finding in enumerate(findings, 1):
        lines += ["", f"{number}. [{finding.rule}] {finding.title}"]
        lines += _wrap("at destroy", finding.at_destroy)
        lines.append("   resources:")
        lines += [f"     {urn}" for urn in finding.urns]
        lines += _wrap("fix", finding.fix)
    for report in live or []:
        held = len(report["active"])
        lines += [
            "",
            f"live: {report['configuration_name'] or '(any configuration)'} in "
            f"{report['region']}: {report['tickets_checked']} ticket(s) checked, {held} active"
            + (", DeleteMatchmakingConfiguration would be refused now" if held else ""),
        ]
    lines += [""] + [f"note: {note}" for note in notes] if notes else []
    if findings:
        lines += ["", f"exit {FINDINGS_EXIT_CODE}: {len(findings)} finding(s) to fix"]
    else:
        lines += ["", "nothing to fix: no finding would stall the teardown"]
    return "\n".join(lines) + "\n"
