"""Both dynamic providers diff a release-1 provider reference as a change (the migration),
and nothing else about the reference: called directly, without the plugin."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.dynamic.config import Config
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.runtime.rpc import UNKNOWN

from gamelift_backfill.backfill_guard import BackfillGuardProvider
from gamelift_backfill.backfill_ticket import BackfillTicketProvider
from gamelift_backfill.provider_reference import needs_new_reference, referenced_modules

STATE_DIR = Path(__file__).parent / "fixtures" / "state"
# Outputs whose inputs a program would give unchanged, per committed state.
UNCHANGED: dict[str, tuple[str, ...]] = {
    "backfill_guard_v1.json": (
        "fleet_ids",
        "configuration_name",
        "region",
        "endpoint_url",
        "stop_timeout_seconds",
        "max_concurrency",
    ),
    "backfill_ticket_v1.json": ("ticket_id", "region", "endpoint_url", "stop_timeout_seconds"),
}


def _state(fixture: str) -> dict[str, Any]:
    """A committed state's outputs as the plugin hands them over (secrets unwrapped)."""
    raw = json.loads((STATE_DIR / fixture).read_text())
    return {
        key: json.loads(value["plaintext"])
        if isinstance(value, dict) and "plaintext" in value
        else value
        for key, value in raw.items()
    }


def _provider(fixture: str) -> ResourceProvider:
    provider: ResourceProvider = (
        BackfillGuardProvider() if "guard" in fixture else BackfillTicketProvider()
    )
    provider.configure(ConfigureRequest(Config({"aws:region": "us-east-1"}, "gamelift-backfill")))
    return provider


@pytest.mark.parametrize("fixture", sorted(UNCHANGED))
def test_release_1_reference_is_a_change_and_only_then(fixture: str) -> None:
    """With unchanged inputs, diff reports an in-place change exactly when the stored
    `__provider` refers to release 1's module and the program's to the package."""
    olds = _state(fixture)
    provider = _provider(fixture)
    package = serialize_provider(provider)
    news = {key: olds[key] for key in UNCHANGED[fixture]}

    migrating = provider.diff("id", olds, {**news, "__provider": package})
    migrated = provider.diff("id", {**olds, "__provider": package}, {**news, "__provider": package})
    preview = provider.diff("id", olds, {**news, "__provider": UNKNOWN})

    assert (migrating.changes, migrating.replaces) == (True, [])
    assert migrated.changes is False
    assert preview.changes is False


def test_reference_reading_needs_no_import() -> None:
    """Module names are read from the pickle's opcodes; garbage refers to nothing."""
    release_1 = _state("backfill_ticket_v1.json")["__provider"]
    assert referenced_modules(release_1) == {"providers.backfill_ticket"}
    assert referenced_modules("not base64 at all!") == set()
    assert not needs_new_reference({"__provider": release_1}, {"__provider": release_1})
