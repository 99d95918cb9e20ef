"""Typed stack configuration of the Pulumi program, checked before anything is created.

Pulumi hands every config value to the program as a string (lists and objects as JSON
text). `parse` turns those strings into a `ProgramConfig` or raises `ConfigError` naming
the one key that is wrong, so a bad value stops `pulumi up` during preview with a line a
user can act on, rather than as a provider error halfway through an update.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pulumi

NAMESPACE = "gamelift-backfill"
"""The config namespace: the project name in Pulumi.yaml."""

KEYS = (
    "region",
    "endpointUrl",
    "fleetIds",
    "configurationName",
    "ticketIds",
    "backfillGameSessions",
    "stopTimeoutSeconds",
    "manageInfrastructure",
    "queueDestinations",
    "ruleSetBody",
)

DEFAULT_RULE_SET = Path(__file__).resolve().parent / "rulesets" / "two_teams.json"
"""The two-team rule set used in managed mode when `ruleSetBody` is not set."""

MAX_STOP_TIMEOUT_SECONDS = 86_400

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d{1,2}$")
_MATCHMAKING_ID = re.compile(r"^[a-zA-Z0-9.-]{1,128}$")
_CONFIGURATION = re.compile(
    r"^([a-zA-Z0-9.-]{1,128}|arn:.*:matchmakingconfiguration/[a-zA-Z0-9.-]+)$"
)
_FLEET = re.compile(r"^([a-z]*fleet-[a-zA-Z0-9-]+|alias-[a-zA-Z0-9-]+|arn:.*)$")
_FLEET_ID = re.compile(r"^fleet-[a-zA-Z0-9-]+$")
_GAME_SESSION_ARN = re.compile(r"^arn:[a-zA-Z0-9:/-]+$")
_QUEUE_DESTINATION = re.compile(
    r"^arn:[a-z-]+:gamelift:[a-z0-9-]+:\d*:(fleet|alias)/[a-zA-Z0-9-]+$"
)
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class ConfigError(pulumi.RunError):
    """A stack config value is missing or wrong; the message names the key.

    A `pulumi.RunError` so that the CLI prints the message alone, without a traceback.
    """

    def __init__(self, key: str, problem: str) -> None:
        self.key = key
        super().__init__(f"Invalid config {NAMESPACE}:{key}: {problem}")


@dataclass(frozen=True)
class ProgramConfig:
    """What the program deploys, as checked values."""

    fleet_ids: tuple[str, ...]
    region: str | None = None
    endpoint_url: str | None = None
    configuration_name: str | None = None
    ticket_ids: tuple[str, ...] = ()
    backfill_game_sessions: tuple[str, ...] = ()
    stop_timeout_seconds: int | None = None
    manage_infrastructure: bool = False
    queue_destinations: tuple[str, ...] = ()
    rule_set_body: str | None = None
    """Minified JSON of the rule set (managed mode only; the shipped default if unset)."""


def load() -> ProgramConfig:
    """Read and check the current stack's config (the program's entry point)."""
    config = pulumi.Config(NAMESPACE)
    raw = {key: value for key in KEYS if (value := config.get(key)) is not None}
    return parse(raw, aws_region=pulumi.Config("aws").get("region"))


def parse(raw: Mapping[str, str], aws_region: str | None = None) -> ProgramConfig:
    """Check the raw config strings of `NAMESPACE` (keys without the namespace)."""
    manage = _boolean(raw, "manageInfrastructure")
    for key in ("queueDestinations", "ruleSetBody"):
        if key in raw and not manage:
            raise ConfigError(key, "only used with manageInfrastructure: true")
    fleet_ids = _string_list(raw, "fleetIds", _FLEET, "fleet IDs, fleet ARNs or alias IDs")
    if not fleet_ids:
        raise ConfigError("fleetIds", "required: the fleets whose backfill is drained on destroy")
    if manage:
        for fleet_id in fleet_ids:
            if not _FLEET_ID.match(fleet_id):
                raise ConfigError(
                    "fleetIds",
                    f"{fleet_id!r} is not a fleet ID (fleet-...); with manageInfrastructure the "
                    "program reads each fleet by its ID",
                )
    _unique("fleetIds", fleet_ids)

    region = _string(raw, "region", _REGION, "an AWS region such as us-east-1")
    if region is None and aws_region is not None:
        if not _REGION.match(aws_region):
            raise ConfigError("region", f"aws:region {aws_region!r} is not an AWS region")
        region = aws_region

    configuration_name = _string(
        raw, "configurationName", _CONFIGURATION, "a matchmaking configuration name or ARN"
    )
    sessions = _string_list(raw, "backfillGameSessions", _GAME_SESSION_ARN, "game session ARNs")
    _unique("backfillGameSessions", sessions)
    if configuration_name is None and (manage or sessions):
        why = "to create it" if manage else "to start the backfills in backfillGameSessions"
        raise ConfigError("configurationName", f"required {why}")
    if manage and configuration_name is not None and configuration_name.startswith("arn:"):
        raise ConfigError("configurationName", "must be a name, not an ARN, to create it")

    ticket_ids = _string_list(raw, "ticketIds", _MATCHMAKING_ID, "ticket IDs ([a-zA-Z0-9.-])")
    _unique("ticketIds", ticket_ids)

    queue_destinations = _string_list(
        raw, "queueDestinations", _QUEUE_DESTINATION, "GameLift fleet or alias ARNs"
    )
    rule_set_body = _rule_set(raw)
    if manage and rule_set_body is None:
        rule_set_body = json.dumps(json.loads(DEFAULT_RULE_SET.read_text()), separators=(",", ":"))

    return ProgramConfig(
        fleet_ids=fleet_ids,
        region=region,
        endpoint_url=_endpoint(raw),
        configuration_name=configuration_name,
        ticket_ids=ticket_ids,
        backfill_game_sessions=sessions,
        stop_timeout_seconds=_timeout(raw),
        manage_infrastructure=manage,
        queue_destinations=queue_destinations,
        rule_set_body=rule_set_body,
    )


def _json(raw: Mapping[str, str], key: str) -> Any:
    """Values set with `pulumi config set --path` or as YAML lists arrive as JSON text."""
    try:
        return json.loads(raw[key])
    except json.JSONDecodeError:
        return raw[key]


def _string(
    raw: Mapping[str, str], key: str, pattern: re.Pattern[str], expected: str
) -> str | None:
    if key not in raw:
        return None
    value = raw[key].strip()
    if not pattern.match(value):
        raise ConfigError(key, f"{value!r} is not {expected}")
    return value


def _string_list(
    raw: Mapping[str, str], key: str, pattern: re.Pattern[str], expected: str
) -> tuple[str, ...]:
    if key not in raw:
        return ()
    value = _json(raw, key)
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(
            key,
            f"must be a list of {expected}, e.g. `pulumi config set --path '{key}[0]' VALUE`",
        )
    for item in value:
        if not pattern.match(item):
            raise ConfigError(key, f"{item!r} is not one of {expected}")
    return tuple(value)


def _unique(key: str, values: tuple[str, ...]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ConfigError(key, f"{value!r} is listed twice")
        seen.add(value)


def _boolean(raw: Mapping[str, str], key: str) -> bool:
    value = raw.get(key, "false").strip().lower()
    if value not in ("true", "false"):
        raise ConfigError(key, f"{raw[key]!r} is not true or false")
    return value == "true"


def _timeout(raw: Mapping[str, str]) -> int | None:
    key = "stopTimeoutSeconds"
    if key not in raw:
        return None
    value = _json(raw, key)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"{raw[key]!r} is not a whole number of seconds")
    if not 1 <= value <= MAX_STOP_TIMEOUT_SECONDS:
        raise ConfigError(key, f"{value} is not between 1 and {MAX_STOP_TIMEOUT_SECONDS}")
    return value


def _endpoint(raw: Mapping[str, str]) -> str | None:
    """Signed requests go over https, or in clear only to this machine (the emulator)."""
    key = "endpointUrl"
    if key not in raw:
        return None
    value = raw[key].strip()
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return value
    if parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS:
        return value
    raise ConfigError(key, f"{value!r} must be https://..., or http:// to a loopback host")


def _rule_set(raw: Mapping[str, str]) -> str | None:
    """Accept the rule set as a YAML object or as JSON text; hand it on as minified JSON."""
    key = "ruleSetBody"
    if key not in raw:
        return None
    value = _json(raw, key)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as error:
            raise ConfigError(key, f"is not valid JSON ({error})") from None
    if not isinstance(value, dict) or not isinstance(value.get("teams"), list):
        raise ConfigError(key, "must be a FlexMatch rule set: a JSON object with a teams list")
    return json.dumps(value, separators=(",", ":"))
