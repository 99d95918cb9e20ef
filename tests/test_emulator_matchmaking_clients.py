"""The matchmaking operations through clients nobody here wrote: the AWS CLI and the JS SDK v3.

Each client validates a rule set (a valid body and one with an unknown rule type) and
accepts a match the emulator proposed on its ManualClock; the test then sees PLACING.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gamelift_emulator import Emulator, ManualClock
from testkit.aws_env import isolated_environ
from testkit.seeding import RULE_SET_BODY

ROOT = Path(__file__).resolve().parent.parent
AWS_CLI = ROOT / ".venv-awscli" / "bin" / "aws"
JS_CLIENT = ROOT / "clients" / "js"
NODE = shutil.which("node")
DUEL = json.dumps(
    {
        "name": "duel",
        "ruleLanguageVersion": "1.0",
        "teams": [
            {"name": "red", "minPlayers": 1, "maxPlayers": 1},
            {"name": "blue", "minPlayers": 1, "maxPlayers": 1},
        ],
    }
)
INVALID = json.dumps({**json.loads(RULE_SET_BODY), "rules": [{"name": "r", "type": "vibes"}]})


def proposed_match(emulator: Emulator, gamelift: Any, clock: ManualClock) -> list[str]:
    """Two tickets (alice, bob) of a STANDALONE 1v1 that requires acceptance, proposed."""
    gamelift.create_matchmaking_rule_set(Name="duel", RuleSetBody=DUEL)
    gamelift.create_matchmaking_configuration(
        Name="cfg",
        RequestTimeoutSeconds=120,
        AcceptanceRequired=True,
        AcceptanceTimeoutSeconds=60,
        RuleSetName="duel",
        FlexMatchMode="STANDALONE",
    )
    for ticket_id, player in (("a", "alice"), ("b", "bob")):
        gamelift.start_matchmaking(
            TicketId=ticket_id, ConfigurationName="cfg", Players=[{"PlayerId": player}]
        )
    clock.advance(1.0)
    statuses = [
        t["Status"] for t in gamelift.describe_matchmaking(TicketIds=["a", "b"])["TicketList"]
    ]
    assert statuses == ["REQUIRES_ACCEPTANCE"] * 2
    return ["a:alice", "b:bob"]


@pytest.mark.skipif(not AWS_CLI.exists(), reason="run `make setup` to create .venv-awscli")
def test_aws_cli_validates_rule_sets_and_accepts_a_match(
    manual_emulator: Emulator,
    manual_clock: ManualClock,
    make_gamelift: Callable[..., Any],
    tmp_path: Path,
) -> None:
    """validate-matchmaking-rule-set answers Valid or the reason; accept-match completes it."""
    gamelift = make_gamelift(manual_emulator.endpoint_url)
    pairs = proposed_match(manual_emulator, gamelift, manual_clock)
    env = isolated_environ({"PATH": os.environ.get("PATH", "")}, HOME=str(tmp_path))

    def aws(*args: str) -> subprocess.CompletedProcess[str]:
        command = [str(AWS_CLI), "gamelift", *args, "--endpoint-url", manual_emulator.endpoint_url]
        command += ["--region", "us-east-1", "--output", "json"]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    valid = aws("validate-matchmaking-rule-set", "--rule-set-body", DUEL)
    assert valid.returncode == 0, valid.stderr
    assert json.loads(valid.stdout) == {"Valid": True}
    invalid = aws("validate-matchmaking-rule-set", "--rule-set-body", INVALID)
    assert invalid.returncode != 0
    assert "InvalidRequestException" in invalid.stderr
    assert 'unknown type "vibes"' in invalid.stderr
    for pair in pairs:
        ticket_id, player = pair.split(":")
        accepted = aws(
            "accept-match",
            "--ticket-id",
            ticket_id,
            "--player-ids",
            player,
            "--acceptance-type",
            "ACCEPT",
        )
        assert accepted.returncode == 0, accepted.stderr
    manual_clock.advance(0.1)
    statuses = [
        t["Status"] for t in gamelift.describe_matchmaking(TicketIds=["a", "b"])["TicketList"]
    ]
    assert statuses == ["COMPLETED", "COMPLETED"]  # STANDALONE: no placement


@pytest.mark.skipif(NODE is None, reason="node is not installed (the JS SDK v3 needs it)")
def test_js_sdk_validates_rule_sets_and_accepts_a_match(
    manual_emulator: Emulator, manual_clock: ManualClock, make_gamelift: Callable[..., Any]
) -> None:
    """@aws-sdk/client-gamelift parses Valid, the InvalidRequestException, and AcceptMatch."""
    assert (JS_CLIENT / "node_modules" / "@aws-sdk" / "client-gamelift").is_dir(), (
        "run `make setup` to install clients/js"
    )
    gamelift = make_gamelift(manual_emulator.endpoint_url)
    pairs = proposed_match(manual_emulator, gamelift, manual_clock)
    assert NODE is not None
    done = subprocess.run(
        [NODE, "matchmaking.mjs", manual_emulator.endpoint_url, DUEL, INVALID, *pairs],
        cwd=JS_CLIENT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    parsed = json.loads(done.stdout)
    assert parsed["valid"] is True
    assert parsed["invalid"]["name"] == "InvalidRequestException"
    assert 'unknown type "vibes"' in parsed["invalid"]["message"]
    assert parsed["accepted"] == 2
    statuses = [
        t["Status"] for t in gamelift.describe_matchmaking(TicketIds=["a", "b"])["TicketList"]
    ]
    assert statuses == ["COMPLETED", "COMPLETED"]
