"""Adding a property to a resource means editing its one declaration: every surface (native
schema, the Python front end's generated source and key sets, wire names, CLI options,
reference) is derived from it."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pulumi
import pytest

from gamelift_backfill import cli, codegen, declaration, reference
from gamelift_backfill.backfill_guard import BackfillGuardArgs
from gamelift_backfill.backfill_ticket import BackfillTicketArgs
from gamelift_backfill.behaviour import guard as guard_behaviour
from gamelift_backfill.behaviour import ticket as ticket_behaviour
from gamelift_backfill.declaration import GUARD, TICKET, Property, ResourceDeclaration
from gamelift_backfill.dynamic import DeclaredArgs
from gamelift_backfill.native import schema, wire

ROOT = Path(__file__).resolve().parent.parent
EXTRA = Property(
    "drain_label",
    "string",
    "A label logged with the drain of `{fleet_ids}`.",
    replaces=True,
    option="--drain-label",
)
EXTENDED = dataclasses.replace(GUARD, properties=(*GUARD.properties, EXTRA))
RESOURCES: tuple[ResourceDeclaration, ...] = (TICKET, EXTENDED)


def _generated_args(source: str, resource: ResourceDeclaration) -> Any:
    """The Args class ``source`` defines, run as its module would run it."""
    namespace: dict[str, Any] = {
        "pulumi": pulumi,
        "Any": Any,
        "Mapping": Mapping,
        "Sequence": Sequence,
        "DeclaredArgs": DeclaredArgs,
        "GUARD": resource,
    }
    exec(compile(source, "<generated>", "exec"), namespace)
    return namespace[f"{resource.name}Args"]


def test_an_added_property_reaches_every_surface() -> None:
    """One new entry in the guard's declaration appears in the native schema (camelCase,
    described), the generated Python source (typed keyword, attribute docstring, output
    annotation; as ruff formats it) and key sets, the native wire's names, drain's options
    and both reference tables, with no other edit."""
    resource = schema.package_schema(resources=RESOURCES)["resources"][GUARD.token]
    spec = resource["inputProperties"]["drainLabel"]
    assert spec == {
        "type": "string",
        "description": "A label logged with the drain of `fleetIds`. "
        "A change replaces the resource.",
    }
    assert "drainLabel" in resource["properties"]

    source = codegen.args_source(EXTENDED, "GUARD")
    assert "        drain_label: pulumi.Input[str] | None = None,\n" in source
    assert (
        "    drain_label: pulumi.Input[str] | None\n"
        '    """A label logged with the drain of `fleet_ids`. A change replaces the resource."""\n'
    ) in source
    assert "    drain_label: pulumi.Output[str | None]\n" in codegen.outputs_source(EXTENDED)
    formatted = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", "generated.py", "-"],
        cwd=ROOT,
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert formatted.stdout == source.rstrip("\n") + "\n", "ruff format would rewrite it"
    extended_args = _generated_args(source, EXTENDED)
    assert "drain_label" in inspect.signature(extended_args).parameters
    args = extended_args(fleet_ids=["fleet-1"], drain_label="nightly")
    assert args.to_props()["drain_label"] == "nightly"
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
    """At run time too, a misspelt input and a missing required one are refused as Python
    refuses any keyword argument (mypy refuses them first: the ignores below are needed)."""
    with pytest.raises(TypeError, match=r"unexpected keyword argument 'fleet_id'"):
        BackfillGuardArgs(fleet_ids=["f"], fleet_id="f")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"missing 1 required keyword-only argument: 'fleet_ids'"):
        BackfillGuardArgs()  # type: ignore[call-arg]


def test_the_committed_python_source_is_what_the_declaration_renders() -> None:
    """`python -m gamelift_backfill.codegen --check` finds the typed Args classes and output
    annotations in backfill_ticket.py and backfill_guard.py exactly as the declaration
    renders them, so they cannot drift from it."""
    result = subprocess.run(
        [sys.executable, "-m", "gamelift_backfill.codegen", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, ""), (
        f"generated source is stale; run `{codegen.COMMAND}`:\n{result.stdout}"
    )
    assert not codegen.stale()


def test_a_stale_block_is_found_and_regenerated(tmp_path: Path) -> None:
    """A generated block edited by hand is reported stale, and regenerating rewrites only
    the lines between its markers."""
    module = tmp_path / "module.py"
    module.write_text(
        "before\n# BEGIN generated: Demo (python -m gamelift_backfill.codegen)\nedited by hand\n"
        "# END generated: Demo\nafter\n"
    )
    block = codegen.Block("Demo", module, "rendered\n")
    assert block.committed() == "edited by hand\n"
    assert block.write()
    assert module.read_text() == (
        "before\n# BEGIN generated: Demo (python -m gamelift_backfill.codegen)\nrendered\n"
        "# END generated: Demo\nafter\n"
    )
    assert block.committed() == block.source
    assert not block.write()
