"""The matchmaking setup every seeded world starts from: rule set, queue, configuration.

One place, so that tests, benchmarks and the demo seed GameLift the same way (the rule set
is the project's own ``rulesets/two_teams.json``, the one a managed stack deploys).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

RULE_SET_PATH = Path(__file__).resolve().parents[1] / "rulesets" / "two_teams.json"
RULE_SET_BODY = RULE_SET_PATH.read_text()
RULE_SET_NAME = "rules"
QUEUE_NAME = "queue"


def seed_configuration(
    gamelift: Any,
    name: str = "cfg",
    backfill_mode: str = "MANUAL",
    timeout_seconds: int = 120,
    rule_set: str = RULE_SET_NAME,
    queue: str = QUEUE_NAME,
    destinations: list[str] | None = None,
    flex_match_mode: str = "WITH_QUEUE",
) -> dict[str, Any]:
    """A configuration ``name`` (rule set and queue created once); returns the configuration.

    ``destinations``: fleet or alias ARNs of the queue, when it is created.
    """
    known = [r["RuleSetName"] for r in gamelift.describe_matchmaking_rule_sets()["RuleSets"]]
    if rule_set not in known:
        gamelift.create_matchmaking_rule_set(Name=rule_set, RuleSetBody=RULE_SET_BODY)
    queue_arns: list[str] = []
    if flex_match_mode == "WITH_QUEUE":
        queues = gamelift.describe_game_session_queues()["GameSessionQueues"]
        found = next((q for q in queues if q["Name"] == queue), None)
        if found is None:
            found = gamelift.create_game_session_queue(
                Name=queue,
                Destinations=[{"DestinationArn": arn} for arn in destinations or []],
            )["GameSessionQueue"]
        queue_arns = [found["GameSessionQueueArn"]]
    members: dict[str, Any] = {"GameSessionQueueArns": queue_arns} if queue_arns else {}
    if flex_match_mode == "WITH_QUEUE":
        members["BackfillMode"] = backfill_mode
    configuration: dict[str, Any] = gamelift.create_matchmaking_configuration(
        Name=name,
        RequestTimeoutSeconds=timeout_seconds,
        AcceptanceRequired=False,
        RuleSetName=rule_set,
        FlexMatchMode=flex_match_mode,
        **members,
    )["Configuration"]
    return configuration
