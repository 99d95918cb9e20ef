"""The front ends stand side by side: none imports another, all of them stand on the shared
behaviour, the translation layer and the core, and the core imports nothing of the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "gamelift_backfill"
FRONT_ENDS = {
    "dynamic": (
        "gamelift_backfill.backfill_ticket",
        "gamelift_backfill.backfill_guard",
        "gamelift_backfill.dynamic",
    ),
    "native": ("gamelift_backfill.native",),
    "cli": ("gamelift_backfill.cli", "gamelift_backfill.__main__"),
}
# Below the front ends: what each of them may build on (with the core).
SHARED = (
    "gamelift_backfill.behaviour",
    "gamelift_backfill.translate",
    "gamelift_backfill.declaration",
    "gamelift_backfill.core",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (relative imports resolved), at any depth of its code."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def within(module: str, prefixes: tuple[str, ...]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def front_end_of(module: str) -> str | None:
    for front_end, prefixes in FRONT_ENDS.items():
        if within(module, prefixes):
            return front_end
    return None


MODULES = {module_name(path): path for path in sorted(PACKAGE_DIR.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_front_end_imports_another(module: str) -> None:
    """A front end (dynamic modules, native plugin, CLI) imports no other front end."""
    own = front_end_of(module)
    for imported in imports_of(MODULES[module]):
        other = front_end_of(imported)
        assert other is None or other == own, f"{module} ({own}) imports {imported} ({other})"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if within(m, ("gamelift_backfill.core",)))
)
def test_core_imports_nothing_outside_core(module: str) -> None:
    """The core knows nothing of the front ends, the translation layer or the doctor."""
    for imported in imports_of(MODULES[module]):
        if imported.startswith("gamelift_backfill"):
            assert within(imported, ("gamelift_backfill.core",)), f"{module} imports {imported}"


@pytest.mark.parametrize(
    "module", sorted(m for m in MODULES if within(m, SHARED) and not within(m, SHARED[-1:]))
)
def test_the_shared_layers_import_only_what_is_below_them(module: str) -> None:
    """The behaviour, translation layer and declaration import only each other and the
    core (never a front end, the doctor or Pulumi's provider SDKs)."""
    for imported in imports_of(MODULES[module]):
        if imported.startswith("gamelift_backfill"):
            assert within(imported, SHARED), f"{module} imports {imported}"
        assert not within(imported, ("pulumi.dynamic", "pulumi.provider")), module


def test_the_walk_sees_the_imports_the_rule_is_about() -> None:
    """The import walk finds what today's modules import (so the rules above cannot pass
    by seeing nothing): the native plugin imports the behaviour, the CLI the translation
    layer."""
    native = imports_of(MODULES["gamelift_backfill.native.resources"])
    assert "gamelift_backfill.behaviour.ticket" in native
    assert "gamelift_backfill.native.cancel" in native
    assert "gamelift_backfill.translate" in imports_of(MODULES["gamelift_backfill.cli"])
