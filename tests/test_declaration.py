"""Adding a property to a resource means editing its one declaration: every surface (native
schema, dynamic Args and key sets, wire names, CLI options, reference) is derived from it."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from gamelift_backfill import cli, declaration, reference
from gamelift_backfill.backfill_guard import BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicketArgs
from gamelift_backfill.behaviour import guard as guard_behaviour
from gamelift_backfill.behaviour import ticket as ticket_behaviour
from gamelift_backfill.declaration import GUARD, TICKET, Property, ResourceDeclaration
from gamelift_backfill.dynamic import DeclaredArgs, args_doc
from gamelift_backfill.native import schema, wire

EXTRA = Property(
    "drain_label",
    "string",
    "A label logged with the drain of `{fleet_ids}`.",
    replaces=True,
    option="--drain-label",
)
EXTENDED = dataclasses.replace(GUARD, properties=(*GUARD.properties, EXTRA))
RESOURCES: tuple[ResourceDeclaration, ...] = (TICKET, EXTENDED)


class ExtendedArgs(DeclaredArgs):
    declaration = EXTENDED


def test_an_added_property_reaches_every_surface() -> None:
    """One new entry in the guard's declaration appears in the native schema (camelCase,
    described), the dynamic Args and key sets, the native wire's names, drain's options and
    both reference tables, with no other edit."""
    resource = schema.package_schema(resources=RESOURCES)["resources"][GUARD.token]
    spec = resource["inputProperties"]["drainLabel"]
    assert spec == {
        "type": "string",
        "description": "A label logged with the drain of `fleetIds`. "
        "A change replaces the resource.",
    }
    assert "drainLabel" in resource["properties"]

    assert "drain_label" in inspect.signature(ExtendedArgs).parameters
    args = ExtendedArgs(fleet_ids=["fleet-1"], drain_label="nightly")
    assert args.to_props()["drain_label"] == "nightly"
    assert "``drain_label`` (string): A label logged with the drain of `fleet_ids`." in (
        args_doc(EXTENDED, "Inputs.")
    )
    assert "drain_label" in EXTENDED.input_names
    assert "drain_label" in EXTENDED.replace_keys

    assert wire.phrase("drain_label: too long", wire.name_pattern(RESOURCES)) == (
        "drainLabel: too long"
    )

    assert declaration.option_names(RESOURCES)["drain_label"] == "--drain-label"
    parsed = cli.build_parser(EXTENDED).parse_args(
        ["drain", "--fleet-id", "fleet-1", "--drain-label", "nightly"]
    )
    assert cli.declared_inputs(parsed, EXTENDED)["drain_label"] == "nightly"

    rendered = reference.markdown_reference(RESOURCES)
    assert "| `drainLabel` | string | input |" in rendered
    assert "| `drain_label` | string | input |" in rendered


def test_the_front_ends_key_sets_are_the_declarations() -> None:
    """The dynamic modules' INPUT_NAMES / OUTPUT_NAMES / REPLACE_KEYS / DEFAULTS, the CLI's
    option names and the native schema's properties are read from the declaration."""
    assert TICKET.input_names == ticket_behaviour.INPUT_NAMES
    assert TICKET.replace_keys == ticket_behaviour.REPLACE_KEYS
    assert GUARD.defaults == guard_behaviour.DEFAULTS
    assert guard_behaviour.REPLACE_KEYS == ("region",)
    assert set(BackfillTicketArgs(ticket_id="t-1").to_props()) == {
        *TICKET.input_names,
        *TICKET.output_names,
    }
    assert declaration.option_names() == cli.OPTION_NAMES
    native = schema.package_schema()["resources"]
    for resource in declaration.RESOURCES:
        assert set(native[resource.token]["properties"]) == {p.camel for p in resource.properties}


def test_args_refuse_what_the_declaration_does_not_list() -> None:
    """A misspelt input is a TypeError naming the inputs the resource takes, and a missing
    required one is refused as a keyword argument would be."""
    with pytest.raises(TypeError, match=r"fleet_id; it takes fleet_ids"):
        BackfillGuardArgs(fleet_ids=["f"], fleet_id="f")
    with pytest.raises(TypeError, match=r"missing required keyword argument.*fleet_ids"):
        BackfillGuardArgs()
