"""The dynamic front end's typed Python source, generated from the one declaration.

As Pulumi generates an SDK from a schema, this renders from ``declaration.py`` each Args
class (keyword-only ``__init__`` with ``pulumi.Input`` types, attribute docstrings) and
each resource class's ``pulumi.Output`` annotations. The source is committed between
``# BEGIN generated: NAME`` and ``# END generated: NAME`` in the front-end modules, so
mypy, pyright and IDEs check users' programs statically, while a property is still edited
in the declaration only. ``python -m gamelift_backfill.codegen`` rewrites the blocks;
``--check`` only reports the stale ones (tests/test_declaration.py runs it).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

from gamelift_backfill.declaration import (
    DYNAMIC_SPELLING,
    GUARD,
    TICKET,
    Property,
    PropertyType,
    ResourceDeclaration,
)

COMMAND = "python -m gamelift_backfill.codegen"
WIDTH = 100
PACKAGE_DIR = Path(__file__).resolve().parent

INPUT_TYPES: dict[PropertyType, str] = {
    "string": "pulumi.Input[str]",
    "integer": "pulumi.Input[int]",
    "boolean": "pulumi.Input[bool]",
    "string[]": "pulumi.Input[Sequence[pulumi.Input[str]]]",
    "object[]": "pulumi.Input[Sequence[Mapping[str, Any]]]",
}
# The SDK reads these at run time to type the outputs it hands the program (a whole number
# stays an int: `activeTicketCount` is exported as 2, not 2.0).
OUTPUT_TYPES: dict[PropertyType, str] = {
    "string": "str",
    "integer": "int",
    "boolean": "bool",
    "string[]": "list[str]",
    "object[]": "list[dict[str, Any]]",
}
# What a Python program is told besides the declaration's description of the resource.
PYTHON_NOTES = {
    TICKET.name: "Pulumi's `import` cannot reach a dynamic provider: adopting by `ticket_id` "
    "is how an existing ticket comes under a stack.",
    GUARD.name: "Pass the fleets' and the configuration's outputs, or `depends_on` them.",
}


def input_type(prop: Property) -> str:
    """The annotation of an Args attribute: optional unless the input is required."""
    return INPUT_TYPES[prop.type] + ("" if prop.required else " | None")


def output_type(prop: Property) -> str:
    """The annotation of a resource's output: None is possible unless every stored state
    has a value (a required or defaulted input, or one resolved at create)."""
    always = prop.required or prop.default is not None or prop.resolved
    return f"pulumi.Output[{OUTPUT_TYPES[prop.type]}{'' if always else ' | None'}]"


def _docstring(text: str, indent: str) -> list[str]:
    """``text`` as a triple-quoted docstring, wrapped to the line length."""
    if '"""' in text or "\\" in text:
        raise ValueError(f"a description cannot hold triple quotes or backslashes: {text!r}")
    paragraphs = text.split("\n\n")
    lines: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        first = indent + ('"""' if index == 0 else "")
        last = index == len(paragraphs) - 1
        wrapped = textwrap.wrap(
            paragraph,
            WIDTH - len('"""'),
            initial_indent=first,
            subsequent_indent=indent,
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines += wrapped + ([] if last else [""])
    lines[-1] += '"""'
    return lines


def args_source(declaration: ResourceDeclaration, variable: str) -> str:
    """The Args class of ``declaration`` (a module-level name ``variable`` holds it)."""
    spell = DYNAMIC_SPELLING
    summary = spell.render(declaration.description, declaration.properties)
    note = PYTHON_NOTES.get(declaration.name, "")
    doc = f"Inputs of a `{declaration.name}`.\n\n{summary}" + (f"\n\n{note}" if note else "")
    lines = [f"class {declaration.name}Args(DeclaredArgs):", *_docstring(doc, "    "), ""]
    lines += [f"    declaration = {variable}", ""]
    for prop in declaration.inputs:
        lines.append(f"    {prop.name}: {input_type(prop)}")
        lines += [*_docstring(spell.describe(prop, declaration.properties), "    "), ""]
    lines += ["    def __init__(", "        self,", "        *,"]
    for prop in declaration.inputs:
        default = "" if prop.required else " = None"
        lines.append(f"        {prop.name}: {input_type(prop)}{default},")
    lines.append("    ) -> None:")
    lines += [f"        self.{p.name} = {p.name}" for p in declaration.inputs]
    return "\n".join(lines) + "\n\n\n"  # two blank lines before the end marker


def outputs_source(declaration: ResourceDeclaration) -> str:
    """A resource class's output annotations, indented for its class body."""
    return "".join(f"    {p.name}: {output_type(p)}\n" for p in declaration.properties)


@dataclass(frozen=True)
class Block:
    """One generated block: its name in the markers, its file, its source."""

    name: str
    path: Path
    source: str

    def _markers(self, text: str) -> tuple[int, int]:
        """Where the block's body starts and ends in ``text`` (the lines between markers)."""
        begin = text.find(f"# BEGIN generated: {self.name} ")
        end = text.find(f"# END generated: {self.name}\n")
        if begin < 0 or end < begin:
            raise ValueError(f"{self.path.name}: no markers for {self.name}")
        return text.index("\n", begin) + 1, text.rindex("\n", 0, end) + 1

    def committed(self) -> str:
        """The block's body as the file holds it now."""
        text = self.path.read_text()
        start, stop = self._markers(text)
        return text[start:stop]

    def write(self) -> bool:
        """Rewrite the block's body with its source; whether the file changed."""
        text = self.path.read_text()
        start, stop = self._markers(text)
        if text[start:stop] == self.source:
            return False
        self.path.write_text(text[:start] + self.source + text[stop:])
        return True


def blocks() -> tuple[Block, ...]:
    """Every generated block of the package."""
    ticket = PACKAGE_DIR / "backfill_ticket.py"
    guard = PACKAGE_DIR / "backfill_guard.py"
    return (
        Block("BackfillTicketArgs", ticket, args_source(TICKET, "TICKET")),
        Block("BackfillTicket outputs", ticket, outputs_source(TICKET)),
        Block("BackfillGuardArgs", guard, args_source(GUARD, "GUARD")),
        Block("BackfillGuard outputs", guard, outputs_source(GUARD)),
    )


def stale() -> list[Block]:
    """The blocks whose committed body is not what the declaration renders."""
    return [block for block in blocks() if block.committed() != block.source]


def main(argv: list[str] | None = None) -> int:
    """Rewrite the generated blocks (or, with ``--check``, list the stale ones)."""
    parser = argparse.ArgumentParser(
        prog=COMMAND, description="Regenerate the typed source of the Python front end."
    )
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if stale")
    check = parser.parse_args(argv).check
    for block in stale():
        if check:
            print(f"{block.path.name}: {block.name} is stale; run `{COMMAND}`")
        else:
            block.write()
            print(f"{block.path.name}: {block.name} regenerated")
    return 1 if check and stale() else 0


if __name__ == "__main__":
    sys.exit(main())
