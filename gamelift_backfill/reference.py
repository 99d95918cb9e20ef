"""The reference tables of both front ends, rendered from the one declaration.

``python -m gamelift_backfill.reference`` prints :func:`markdown_reference`: the text the
reference page holds between ``README_BEGIN`` and ``README_END`` (tests/test_native_schema.py
checks that it is exactly this). The native schema (``native/schema.py``) is made from the
same declaration (``declaration.py``), so a description cannot say one thing in the schema
and another in the docs.
"""

from __future__ import annotations

from gamelift_backfill.declaration import (
    CONFIG,
    DYNAMIC_SPELLING,
    GUARD,
    NATIVE_SPELLING,
    PACKAGE,
    PROVIDER_DESCRIPTION,
    RESOURCES,
    TICKET,
    Property,
    ResourceDeclaration,
    Spelling,
)

__all__ = ["GUARD_TOKEN", "PACKAGE", "README_BEGIN", "README_END", "TICKET_TOKEN"]

TICKET_TOKEN = TICKET.token
GUARD_TOKEN = GUARD.token
README_BEGIN = "<!-- reference:begin (generated from gamelift_backfill/reference.py) -->"
README_END = "<!-- reference:end -->"
PYTHON_MODULES = {
    TICKET.name: "gamelift_backfill.backfill_ticket",
    GUARD.name: "gamelift_backfill.backfill_guard",
}


def _row(prop: Property, properties: tuple[Property, ...], spelling: Spelling) -> str:
    kind = "input" if prop.input else "output"
    flags = [kind, *(["required"] if prop.required else []), *(["secret"] if prop.secret else [])]
    description = spelling.describe(prop, properties)
    return f"| `{spelling.name(prop)}` | {prop.type} | {', '.join(flags)} | {description} |"


def _table(properties: tuple[Property, ...], spelling: Spelling) -> list[str]:
    return [
        "| Property | Type | Kind | Description |",
        "|---|---|---|---|",
        *(_row(p, properties, spelling) for p in properties),
    ]


def _resource(resource: ResourceDeclaration, title: str, spelling: Spelling) -> list[str]:
    return [
        f"#### {title}",
        "",
        spelling.render(resource.description, resource.properties),
        "",
        *_table(resource.properties, spelling),
        "",
    ]


def markdown_reference(resources: tuple[ResourceDeclaration, ...] = RESOURCES) -> str:
    """The reference tables (between README_BEGIN and README_END): the native provider's
    resources and configuration, then the same resources as the Python dynamic provider."""
    lines: list[str] = []
    for resource in resources:
        lines += _resource(resource, f"`{resource.token}`", NATIVE_SPELLING)
    lines += [
        "#### Provider configuration",
        "",
        PROVIDER_DESCRIPTION,
        "",
        *_table(CONFIG, NATIVE_SPELLING),
        "",
    ]
    for resource in resources:
        title = (
            f"`{PYTHON_MODULES[resource.name]}.{resource.name}` (Python, "
            f"`{resource.dynamic_token}`)"
        )
        lines += _resource(resource, title, DYNAMIC_SPELLING)
    return "\n".join(lines).rstrip("\n")


if __name__ == "__main__":
    print(markdown_reference())
