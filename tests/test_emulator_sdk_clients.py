"""Clients nobody here wrote use the new operations unmodified: the AWS CLI and the JS SDK v3."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gamelift_emulator import Emulator, EmulatorControl
from testkit.aws_env import isolated_environ

ROOT = Path(__file__).resolve().parent.parent
AWS_CLI = ROOT / ".venv-awscli" / "bin" / "aws"
JS_CLIENT = ROOT / "clients" / "js"
NODE = shutil.which("node")


@pytest.mark.skipif(not AWS_CLI.exists(), reason="run `make setup` to create .venv-awscli")
def test_aws_cli_uses_fleet_alias_tag_and_session_operations(
    emulator: Emulator, control: EmulatorControl, tmp_path: Path
) -> None:
    """The AWS CLI lists fleets, makes and resolves an alias, tags it, and searches sessions."""
    fleet_id = control.create_fleet(fleet_id="fleet-cli")["fleet_id"]
    env = isolated_environ({"PATH": os.environ.get("PATH", "")}, HOME=str(tmp_path))

    def aws(*args: str) -> Any:
        command = [str(AWS_CLI), "gamelift", *args, "--endpoint-url", emulator.endpoint_url]
        command += ["--region", "us-east-1", "--output", "json"]
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else {}

    assert aws("list-fleets")["FleetIds"] == [fleet_id]
    alias = aws(
        "create-alias",
        "--name",
        "cli",
        "--routing-strategy",
        f"Type=SIMPLE,FleetId={fleet_id}",
        "--tags",
        "Key=made-by,Value=cli",
    )["Alias"]
    assert aws("resolve-alias", "--alias-id", alias["AliasId"])["FleetId"] == fleet_id
    listed = aws("list-tags-for-resource", "--resource-arn", alias["AliasArn"])
    assert listed["Tags"] == [{"Key": "made-by", "Value": "cli"}]
    session = aws(
        "create-game-session", "--fleet-id", fleet_id, "--maximum-player-session-count", "2"
    )["GameSession"]
    aws("create-player-session", "--game-session-id", session["GameSessionId"], "--player-id", "p")
    found = aws(
        "search-game-sessions",
        "--fleet-id",
        fleet_id,
        "--filter-expression",
        "hasAvailablePlayerSessions=true",
    )["GameSessions"]
    assert [s["CurrentPlayerSessionCount"] for s in found] == [1]


@pytest.mark.skipif(NODE is None, reason="node is not installed (the JS SDK v3 needs it)")
def test_javascript_sdk_v3_uses_the_new_operations(
    emulator: Emulator, control: EmulatorControl
) -> None:
    """@aws-sdk/client-gamelift (pinned in clients/js) calls and parses every new operation."""
    assert (JS_CLIENT / "node_modules" / "@aws-sdk" / "client-gamelift").is_dir(), (
        "run `make setup` (npm ci in clients/js)"
    )
    fleet_id = control.create_fleet(fleet_id="fleet-js")["fleet_id"]
    assert NODE is not None
    done = subprocess.run(
        [NODE, "check.mjs", emulator.endpoint_url, fleet_id],
        cwd=JS_CLIENT,
        env={**os.environ, "AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report == {
        "fleetIds": [fleet_id],
        "fleetStatus": "ACTIVE",
        "resolvedFleetId": fleet_id,
        "tags": [{"Key": "sdk", "Value": "js"}],
        "creationTimeIsDate": True,
        "playerIds": ["a", "b"],
        "searched": ["js-game"],
        "protection": "FullProtection",
        "errorName": "NotFoundException",
    }
