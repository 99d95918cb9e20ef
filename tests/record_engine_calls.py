"""Regenerate tests/fixtures/engine_calls/{dynamic,native}.json: what the real Pulumi engine
sends to our two provider plugins.

    .venv/bin/python tests/record_engine_calls.py            # both
    .venv/bin/python tests/record_engine_calls.py native     # one of them

Runs the programs of tests/fixtures/engine_observation/ with the real CLI (`make setup`'s,
isolated by `testkit.pulumi_cli.PulumiSandbox`) against a GameLift emulator of its own, with
``PULUMI_DEBUG_GRPC`` set: the CLI then appends every gRPC call it makes to a JSON-lines
file (pulumi/pulumi ``sdk/go/pulumi-internal/rpcdebug``: one ``request_started`` and one
``response_completed`` entry per call, with ``method``, protojson ``request``/``response``,
``errors`` and ``metadata`` ``{"mode": "client", "kind": "resource", "name": <package>}``).
Only the calls to the ResourceProvider service are kept, trimmed to what our plugins read
and normalised: ports, paths, ticket and guard IDs, times and the pickled provider become
placeholders, so the record is stable and `tests/test_engine_parity.py` can compare
`testkit.plugin_host` with it without a CLI.

The operations, in order, for each front end (dynamic: the Python program through the
Automation API for preview/up, plain CLI commands otherwise; native: the YAML program):
``preview-bad-provider-config`` (an endpoint CheckConfig refuses), ``preview-create`` (an
input unknown), ``up-create``, ``refresh``, ``preview-update-in-place``,
``up-update-in-place`` (stopTimeoutSeconds), ``up-replace`` (ticketId), ``destroy-failed``
(the ticket held in PLACING: short stopTimeoutSeconds / customTimeouts.delete), the state
left after it, ``destroy-cancelled`` (SIGINT while Delete waits), ``destroy`` (after the
ticket settled), ``import`` of a live ticket and its ``destroy``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gamelift_emulator import Emulator, EmulatorControl  # noqa: E402
from testkit.pulumi_cli import PulumiSandbox, find_cli  # noqa: E402
from testkit.seeding import seed_configuration  # noqa: E402

OBSERVATION = ROOT / "tests" / "fixtures" / "engine_observation"
RECORDS = ROOT / "tests" / "fixtures" / "engine_calls"
STACK = "observe"
REGION = "us-east-1"
FLEET_ID = "fleet-observe"
CONFIGURATION_NAME = "observe-backfill"
PROVIDER_SERVICE = "/pulumirpc.ResourceProvider/"
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
PROVIDER_KEY = "__provider"
TIME = r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)?"
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
WAIT_SECONDS = 120.0

# Request fields kept per method (everything else is listed by name only, in "fields").
KEEP: dict[str, tuple[str, ...]] = {
    "Handshake": (
        "configureWithUrn",
        "supportsViews",
        "supportsRefreshBeforeUpdate",
        "invokeWithPreview",
    ),
    "GetPluginInfo": (),
    "GetSchema": ("version",),
    "CheckConfig": ("urn", "name", "type", "olds", "news"),
    "DiffConfig": ("urn", "name", "type", "olds", "news", "oldInputs", "ignoreChanges"),
    "Configure": (
        "id",
        "urn",
        "name",
        "type",
        "variables",
        "args",
        "acceptSecrets",
        "acceptResources",
        "sendsOldInputs",
        "sendsOldInputsToDelete",
    ),
    "Check": ("urn", "name", "type", "olds", "news", "oldOutputs", "randomSeed"),
    "Diff": ("id", "urn", "name", "type", "olds", "news", "oldInputs", "ignoreChanges"),
    "Create": ("urn", "name", "type", "properties", "timeout", "preview"),
    "Read": ("id", "urn", "name", "type", "properties", "inputs"),
    "Update": (
        "id",
        "urn",
        "name",
        "type",
        "olds",
        "news",
        "oldInputs",
        "timeout",
        "preview",
        "ignoreChanges",
    ),
    "Delete": ("id", "urn", "name", "type", "properties", "oldInputs", "timeout"),
    "Cancel": (),
}
KEEP_RESPONSE: dict[str, tuple[str, ...]] = {
    "CheckConfig": ("inputs", "failures"),
    "DiffConfig": ("changes", "replaces", "diffs"),
    "Configure": ("acceptSecrets", "supportsPreview", "acceptResources", "acceptOutputs"),
    "Check": ("inputs", "failures"),
    "Diff": ("changes", "replaces", "deleteBeforeReplace", "diffs"),
    "Create": ("id", "properties"),
    "Read": ("id", "properties", "inputs"),
    "Update": ("properties",),
}


class Normaliser:
    """Replaces what differs between runs (ports, paths, generated IDs, times) by names."""

    def __init__(self, endpoint_url: str, project: Path) -> None:
        self.names: dict[str, str] = {
            endpoint_url: "<endpoint>",
            str(project): "<project>",
            str(ROOT): "<repo>",
        }

    def name(self, value: str, placeholder: str) -> None:
        self.names.setdefault(value, placeholder)

    def string(self, value: str) -> str:
        for known in sorted(self.names, key=len, reverse=True):
            value = value.replace(known, self.names[known])
        value = re.sub(TIME, "<time>", value)
        value = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", value)
        value = re.sub(r"\bplayer-[0-9a-f]{16}\b", "<player>", value)
        if value != UNKNOWN:
            value = re.sub(
                r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                "<uuid>",
                value,
            )
        return value

    def value(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.string(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {
                self.string(k): _pickle_hidden(v) if k == PROVIDER_KEY else self.value(v)
                for k, v in value.items()
            }
        return value


def _pickle_hidden(value: Any) -> Any:
    """``__provider`` without its pickle (kept secret-wrapped when it was)."""
    if value == "<secret>":
        return value
    if isinstance(value, dict) and SECRET_SIG_KEY in value:
        return {**value, "value": "<pickled provider>"}
    return "<pickled provider>"


def provider_calls(log: Path, normaliser: Normaliser) -> list[dict[str, Any]]:
    """The ResourceProvider calls of one CLI run, in the order the engine started them."""
    if not log.exists():
        return []
    entries = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    started = [
        e
        for e in entries
        if e.get("method", "").startswith(PROVIDER_SERVICE) and e["progress"] == "request_started"
    ]
    completed = [
        e
        for e in entries
        if e.get("method", "").startswith(PROVIDER_SERVICE)
        and e["progress"] == "response_completed"
    ]
    calls = []
    for entry in started:
        done = next(
            (
                c
                for c in completed
                if c["method"] == entry["method"] and c.get("request") == entry.get("request")
            ),
            None,
        )
        if done is not None:
            completed.remove(done)
        calls.append(trim(entry, done, normaliser))
    return calls


def trim(
    started: Mapping[str, Any], done: Mapping[str, Any] | None, normaliser: Normaliser
) -> dict[str, Any]:
    method = started["method"].removeprefix(PROVIDER_SERVICE)
    request = started.get("request") or {}
    call: dict[str, Any] = {
        "method": method,
        "plugin": (started.get("metadata") or {}).get("name"),
        "fields": sorted(request),
    }
    for key in KEEP.get(method, ()):
        if key in request:
            value = request[key]
            if key == "randomSeed":
                value = f"<{len(base64.b64decode(value))} random bytes>"
            call[key] = normaliser.value(value)
    if done is None:
        call["completed"] = False
        return call
    if done.get("errors"):
        call["errors"] = [normaliser.string(e) for e in done["errors"]]
    response = done.get("response") or {}
    wanted = KEEP_RESPONSE.get(method, ())
    kept = {k: normaliser.value(response[k]) for k in wanted if k in response}
    if kept:
        call["response"] = kept
    return call


def state_summary(pulumi: PulumiSandbox, project: Path, normaliser: Normaliser) -> dict[str, Any]:
    """What `pulumi stack export` holds: resources (type, id, inputs/outputs keys, secrets),
    and pending operations."""
    exported = pulumi.export(STACK, project)
    deployment = exported.get("deployment", {})
    resources = []
    for resource in deployment.get("resources") or []:
        if resource["type"].startswith("pulumi:"):
            resources.append({"urn": normaliser.string(resource["urn"])})
            continue
        resources.append(
            {
                "urn": normaliser.string(resource["urn"]),
                "id": normaliser.string(resource.get("id", "")),
                "inputs": normaliser.value(_secrets_hidden(resource.get("inputs", {}))),
                "outputs": normaliser.value(_secrets_hidden(resource.get("outputs", {}))),
                "customTimeouts": resource.get("customTimeouts"),
                "provider": normaliser.string(resource.get("provider", "")),
            }
        )
    pending = [
        {"type": p.get("type"), "urn": normaliser.string(p["resource"]["urn"])}
        for p in deployment.get("pending_operations") or []
    ]
    return {"resources": resources, "pending_operations": pending}


def _secrets_hidden(value: Any) -> Any:
    if isinstance(value, dict):
        if value.get(SECRET_SIG_KEY):
            return "<secret>"
        return {k: _secrets_hidden(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_secrets_hidden(v) for v in value]
    return value


class Recorder:
    """Runs one program's operations and collects the trimmed calls of each."""

    def __init__(
        self,
        kind: str,
        pulumi: PulumiSandbox,
        project: Path,
        emulator: Emulator,
        logs: Path,
    ) -> None:
        self.kind = kind
        self.pulumi = pulumi
        self.project = project
        self.control: EmulatorControl = emulator.control
        self.logs = logs
        self.normaliser = Normaliser(emulator.endpoint_url, project)
        self.operations: list[dict[str, Any]] = []
        self._tickets = 0

    def ticket(self) -> str:
        """A new game session's automatic backfill ticket (active until stopped)."""
        session = self.control.create_game_session(FLEET_ID, CONFIGURATION_NAME, 2, 8)
        ticket_id = str(session["auto_backfill_ticket_id"])
        self._tickets += 1
        self.normaliser.name(ticket_id, f"<ticket-{self._tickets}>")
        arn = session.get("GameSessionArn") or session.get("GameSessionId")
        if arn:
            self.normaliser.name(str(arn), f"<session-{self._tickets}>")
        return ticket_id

    def log_path(self, name: str) -> Path:
        return self.logs / f"{self.kind}-{name}.jsonl"

    def env(self, name: str) -> dict[str, str]:
        return self.pulumi.env(PULUMI_DEBUG_GRPC=str(self.log_path(name)))

    def config(self, key: str, value: str, *, secret: bool = False) -> None:
        flags = ["--secret"] if secret else []
        self.pulumi.run("config", "set", *flags, key, value, "--stack", STACK, cwd=self.project)

    def delete_timeout(self, value: str) -> None:
        """The YAML program's ticket ``customTimeouts.delete`` (a literal in the program)."""
        path = self.project / "Pulumi.yaml"
        text = re.sub(r"delete: \d+[smh]", f"delete: {value}", path.read_text())
        path.write_text(text)

    def run(self, name: str, operation: Callable[[dict[str, str]], Any]) -> dict[str, Any]:
        """Run ``operation`` with the gRPC log on; record its calls and outcome."""
        done = operation(self.env(name))
        record: dict[str, Any] = {
            "operation": name,
            "exit_code": getattr(done, "returncode", None),
            "calls": provider_calls(self.log_path(name), self.normaliser),
        }
        if isinstance(done, subprocess.CompletedProcess) and done.returncode != 0:
            record["output_tail"] = [
                self.normaliser.string(line)
                for line in (done.stdout + done.stderr).splitlines()
                if "error" in line.lower()
            ][-8:]
        self.operations.append(record)
        print(f"{self.kind} {name}: exit {record['exit_code']}, {len(record['calls'])} calls")
        return record

    def cli(self, *args: str) -> Callable[[dict[str, str]], Any]:
        def operation(env: dict[str, str]) -> Any:
            return self.pulumi.run(*args, "--stack", STACK, cwd=self.project, env=env, check=False)

        return operation

    def program(self, operation_name: str) -> Callable[[dict[str, str]], Any]:
        """preview/up of the program: YAML by the CLI, Python through the Automation API."""
        if self.kind == "native":
            args = ["up", "--yes", "--skip-preview"] if operation_name == "up" else ["preview"]
            return self.cli(*args)

        def operation(env: dict[str, str]) -> Any:
            return self.pulumi.python_program(
                operation_name, "--stack", STACK, cwd=self.project, env=env, check=False
            )

        return operation

    def interrupted_destroy(self, name: str, deadline: float) -> dict[str, Any]:
        """``pulumi destroy`` sent SIGINT once the engine's Delete of the ticket started;
        ``deadline``: the delete's own bound (stopTimeoutSeconds / customTimeouts)."""
        ended: dict[str, Any] = {}

        def operation(env: dict[str, str]) -> Any:
            process = self.pulumi.popen(
                "destroy", "--yes", "--stack", STACK, cwd=self.project, env=env
            )
            log = self.log_path(name)
            give_up = time.monotonic() + WAIT_SECONDS
            while not _delete_started(log):
                if process.poll() is not None or time.monotonic() > give_up:
                    break
                time.sleep(0.1)
            time.sleep(1.0)  # the plugin is now waiting on the ticket
            process.send_signal(signal.SIGINT)
            interrupted = time.monotonic()
            output, _ = process.communicate(timeout=deadline + WAIT_SECONDS)
            waited = time.monotonic() - interrupted
            ended["cli_exit_after_sigint"] = (
                "before the delete's own deadline"
                if waited < deadline / 2
                else "only after the delete's own deadline"
            )
            return subprocess.CompletedProcess(process.args, process.returncode, output, "")

        record = self.run(name, operation)
        record.update(ended)
        return record

    def state(self, name: str) -> None:
        self.operations.append(
            {"operation": name, "state": state_summary(self.pulumi, self.project, self.normaliser)}
        )


def _delete_started(log: Path) -> bool:
    if not log.exists():
        return False
    return any(
        '"/pulumirpc.ResourceProvider/Delete"' in line and "ticket" in line
        for line in log.read_text().splitlines()
    )


def scenario(recorder: Recorder, *, dynamic: bool, endpoint_url: str) -> None:
    """The operations of the module docstring, on one program."""
    r = recorder
    first = r.ticket()
    r.config("gamelift-backfill:region", REGION)
    r.config("gamelift-backfill:endpointUrl", endpoint_url)
    r.config("fleetId", FLEET_ID)
    r.config("configurationName", CONFIGURATION_NAME)
    r.config("ticketId", first)
    r.config("ticketTimeout", "30")
    r.config("guardEndpoint", endpoint_url, secret=True)

    # A provider setting CheckConfig refuses (http to a host that is not loopback).
    r.config("gamelift-backfill:endpointUrl", "http://gamelift.example.com")
    r.run("preview-bad-provider-config", r.program("preview"))
    r.config("gamelift-backfill:endpointUrl", endpoint_url)
    r.run("preview-create", r.program("preview"))
    r.run("up-create", r.program("up"))
    r.state("state-after-up")
    r.run("refresh", r.cli("refresh", "--yes"))
    r.config("ticketTimeout", "3")
    if not dynamic:
        r.delete_timeout("3s")
    r.run("preview-update-in-place", r.program("preview"))
    r.run("up-update-in-place", r.program("up"))
    second = r.ticket()
    r.config("ticketId", second)
    r.run("preview-replace", r.program("preview"))
    r.run("up-replace", r.program("up"))

    r.control.set_ticket_status(second, "PLACING")
    r.run("destroy-failed", r.cli("destroy", "--yes"))
    r.state("state-after-failed-destroy")

    # Long enough to interrupt, short enough to wait out when Cancel does not end it.
    r.config("ticketTimeout", "40")
    if not dynamic:
        r.delete_timeout("10m")
    r.run("up-longer-timeout", r.program("up"))
    r.interrupted_destroy("destroy-cancelled", 40.0 if dynamic else 600.0)
    r.state("state-after-cancelled-destroy")

    r.control.set_ticket_status(second, "COMPLETED")
    r.run("destroy", r.cli("destroy", "--yes"))
    r.state("state-after-destroy")

    third = r.ticket()
    token = (
        "pulumi-python:dynamic/gamelift:BackfillTicket"
        if dynamic
        else "gamelift-backfill:index:BackfillTicket"
    )
    flags = ("--yes", "--protect=false", "--generate-code=false")
    r.run("import", r.cli("import", token, "imported", third, *flags))
    r.state("state-after-import")
    r.run("destroy-after-import", r.cli("destroy", "--yes"))


def _stop_plugins_of(project: Path) -> None:
    """SIGTERM plugins the CLI left running in ``project`` (an interrupted destroy leaves
    the dynamic provider's plugin orphaned); only processes started by this recorder."""
    import os

    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            cwd = os.readlink(entry / "cwd")
        except OSError:
            continue
        if cwd == str(project) and "pulumi" in cmdline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry.name), signal.SIGTERM)


def prepare_project(kind: str, root: Path) -> Path:
    project = root / f"{kind}-project"
    if kind == "dynamic":
        shutil.copytree(OBSERVATION / "python", project)
        shutil.copytree(
            ROOT / "gamelift_backfill",
            project / "gamelift_backfill",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        (project / ".venv").symlink_to(ROOT / ".venv", target_is_directory=True)
    else:
        project.mkdir(parents=True)
        text = (OBSERVATION / "yaml" / "Pulumi.yaml").read_text()
        text = text.replace("path: ../../../../bin", f"path: {ROOT / 'bin'}")
        (project / "Pulumi.yaml").write_text(text)
    return project


def record(kind: str, work: Path) -> dict[str, Any]:
    cli = find_cli()
    if cli is None:
        raise SystemExit("no Pulumi CLI: run make setup")
    with Emulator(region=REGION) as emulator:
        control = emulator.control
        fleet = control.create_fleet(fleet_id=FLEET_ID, region=REGION)
        seed_configuration(
            _gamelift(emulator.endpoint_url),
            CONFIGURATION_NAME,
            backfill_mode="AUTOMATIC",
            timeout_seconds=3600,
            destinations=[fleet["fleet_arn"]],
        )
        pulumi = PulumiSandbox(work / f"{kind}-pulumi", cli)
        project = prepare_project(kind, work)
        pulumi.run("stack", "init", STACK, cwd=project)
        logs = work / "logs"
        logs.mkdir(exist_ok=True)
        recorder = Recorder(kind, pulumi, project, emulator, logs)
        try:
            scenario(recorder, dynamic=kind == "dynamic", endpoint_url=emulator.endpoint_url)
        finally:
            _stop_plugins_of(project)
    return {
        "generated_by": "tests/record_engine_calls.py",
        "pulumi_version": pulumi.run("version", cwd=project).stdout.strip(),
        "program": f"tests/fixtures/engine_observation/{'python' if kind == 'dynamic' else 'yaml'}",
        "operations": recorder.operations,
    }


def _gamelift(endpoint_url: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        "gamelift",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def main(argv: list[str] | None = None) -> int:
    from testkit.aws_env import isolated_aws_env

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kinds", nargs="*", help="dynamic and/or native (default: both)")
    parser.add_argument(
        "--keep", action="store_true", help="keep the raw gRPC logs (folder printed)"
    )
    args = parser.parse_args(argv)
    if not set(args.kinds) <= {"dynamic", "native"}:
        parser.error("kinds are dynamic and native")
    RECORDS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="engine-calls-"))
    try:
        with isolated_aws_env():
            for kind in args.kinds or ["dynamic", "native"]:
                result = record(kind, work)
                path = RECORDS / f"{kind}.json"
                path.write_text(json.dumps(result, indent=1) + "\n")
                print(f"wrote {path.relative_to(ROOT)}")
    finally:
        if args.keep:
            print(f"raw logs kept in {work / 'logs'}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
