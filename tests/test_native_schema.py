"""The package schema the native plugin returns (GetSchema), and the reference in
docs/reference.md that comes from the same source (gamelift_backfill/reference.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from native_helpers import native_plugin

from gamelift_backfill import reference
from gamelift_emulator import Emulator
from testkit.plugin_host import PluginHost

ROOT = Path(__file__).resolve().parents[1]
CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
TICKET_INPUTS = {
    "configurationName",
    "gameSessionArn",
    "players",
    "ticketId",
    "region",
    "endpointUrl",
    "stopTimeoutSeconds",
}
GUARD_INPUTS = {
    "fleetIds",
    "configurationName",
    "ticketIds",
    "region",
    "endpointUrl",
    "stopTimeoutSeconds",
    "maxConcurrency",
    "disableAutomaticBackfill",
}


@pytest.fixture(scope="module")
def schema(
    _session_emulator: Emulator,
) -> Iterator[dict[str, Any]]:
    """The schema as the plugin, started as the engine starts it, returns it."""
    plugin: PluginHost
    with native_plugin(_session_emulator.endpoint_url) as plugin:
        yield plugin.get_schema()


def test_schema_names_the_package_and_both_resources(schema: dict[str, Any]) -> None:
    """Package `gamelift-backfill` with the two resource tokens of the contract."""
    assert schema["name"] == "gamelift-backfill"
    assert set(schema["resources"]) == {
        "gamelift-backfill:index:BackfillTicket",
        "gamelift-backfill:index:BackfillGuard",
    }


def test_inputs_and_outputs_are_camel_case(schema: dict[str, Any]) -> None:
    """Each resource takes the documented camelCase inputs and returns them plus outputs."""
    ticket = schema["resources"]["gamelift-backfill:index:BackfillTicket"]
    guard = schema["resources"]["gamelift-backfill:index:BackfillGuard"]
    assert set(ticket["inputProperties"]) == TICKET_INPUTS
    assert set(ticket["properties"]) == TICKET_INPUTS | {
        "status",
        "statusReason",
        "configurationArn",
        "startTime",
    }
    assert set(guard["inputProperties"]) == GUARD_INPUTS
    assert set(guard["properties"]) == GUARD_INPUTS | {"activeTicketCount"}
    assert guard["requiredInputs"] == ["fleetIds"]
    assert guard["inputProperties"]["fleetIds"]["items"] == {"type": "string"}
    for resource in schema["resources"].values():
        assert all(CAMEL.match(name) for name in resource["properties"])
        assert set(resource["required"]) <= set(resource["properties"])


def test_players_are_secret_and_nothing_else(schema: dict[str, Any]) -> None:
    """Only `players` (player IDs) is marked secret, as input and as output."""
    secret = {
        (token, kind, name)
        for token, resource in schema["resources"].items()
        for kind in ("properties", "inputProperties")
        for name, spec in resource[kind].items()
        if spec.get("secret")
    }
    token = "gamelift-backfill:index:BackfillTicket"
    assert secret == {(token, "properties", "players"), (token, "inputProperties", "players")}


def test_every_resource_and_property_is_documented(schema: dict[str, Any]) -> None:
    """A non-empty description for every resource, property and provider setting."""
    specs = [schema["provider"], *schema["resources"].values()]
    for spec in specs:
        assert spec["description"].strip()
        for kind in ("properties", "inputProperties"):
            for name, prop in spec[kind].items():
                assert prop["description"].strip(), name
    for name, prop in schema["config"]["variables"].items():
        assert prop["description"].strip(), name


def test_provider_configuration_is_region_and_endpoint(schema: dict[str, Any]) -> None:
    """Like pulumi-aws: `region`, plus `endpointUrl`, as config and provider inputs."""
    assert set(schema["config"]["variables"]) == {"region", "endpointUrl"}
    assert set(schema["provider"]["inputProperties"]) == {"region", "endpointUrl"}


def test_reference_doc_is_the_schema_source(schema: dict[str, Any]) -> None:
    """docs/reference.md's generated tables are exactly what reference.py renders, and every
    schema description appears in them (so the docs and the schema cannot drift)."""
    doc = (ROOT / "docs" / "reference.md").read_text()
    start = doc.index(reference.README_BEGIN) + len(reference.README_BEGIN)
    section = doc[start : doc.index(reference.README_END)]
    assert section.strip() == reference.markdown_reference().strip(), (
        "docs/reference.md is stale: paste `python -m gamelift_backfill.reference` output"
    )
    for resource in schema["resources"].values():
        assert resource["description"] in section
        for prop in resource["properties"].values():
            assert prop["description"] in section
