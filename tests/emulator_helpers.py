"""Helpers shared by the emulator's tests: seeding GameLift state, raw signed requests."""

from __future__ import annotations

import http.client
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

RULE_SET_BODY = (Path(__file__).resolve().parent.parent / "rulesets" / "two_teams.json").read_text()
PLAYERS = [{"PlayerId": "player-1", "PlayerAttributes": {"skill": {"N": 12}}}]


def seed_configuration(
    gamelift: Any,
    name: str = "cfg",
    backfill_mode: str = "MANUAL",
    timeout_seconds: int = 120,
    rule_set: str = "rules",
) -> dict[str, Any]:
    """A rule set, a queue and a WITH_QUEUE configuration; returns the configuration."""
    known = [r["RuleSetName"] for r in gamelift.describe_matchmaking_rule_sets()["RuleSets"]]
    if rule_set not in known:
        gamelift.create_matchmaking_rule_set(Name=rule_set, RuleSetBody=RULE_SET_BODY)
    queues = gamelift.describe_game_session_queues()["GameSessionQueues"]
    queue = next((q for q in queues if q["Name"] == "queue"), None)
    if queue is None:
        queue = gamelift.create_game_session_queue(Name="queue")["GameSessionQueue"]
    configuration: dict[str, Any] = gamelift.create_matchmaking_configuration(
        Name=name,
        RequestTimeoutSeconds=timeout_seconds,
        AcceptanceRequired=False,
        RuleSetName=rule_set,
        GameSessionQueueArns=[queue["GameSessionQueueArn"]],
        BackfillMode=backfill_mode,
        FlexMatchMode="WITH_QUEUE",
    )["Configuration"]
    return configuration


def raw_request(
    endpoint_url: str,
    body: bytes,
    target: str | None = "GameLift.DescribeMatchmaking",
    content_type: str = "application/x-amz-json-1.1",
    path: str = "/",
    sign: bool = True,
    access_key: str = "test",
    secret_key: str = "test",
    region: str = "us-east-1",
    service: str = "gamelift",
    extra_headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any]:
    """Send one request as an SDK would (signed with botocore), return status, headers, JSON."""
    headers = {"Content-Type": content_type, **(extra_headers or {})}
    if target is not None:
        headers["X-Amz-Target"] = target
    request = AWSRequest(method="POST", url=endpoint_url + path, data=body, headers=headers)
    if sign:
        SigV4Auth(Credentials(access_key, secret_key), service, region).add_auth(request)
    parts = urlsplit(endpoint_url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=10)
    try:
        connection.request("POST", path, body=body, headers=dict(request.headers.items()))
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()
    return response.status, answer_headers, json.loads(raw) if raw else None
