"""What a dynamic provider's ``__provider`` pickle refers to, found without unpickling it.

``__provider`` is the base64 of a dill pickle of the provider instance. A provider class
imported from a module is pickled by reference (GLOBAL / STACK_GLOBAL opcodes naming the
module and the class), and ``pulumi destroy`` imports that module again. Unpickling would
run whatever the pickle says, so :func:`references` (the reader of
``provider_reference.py``) only walks the opcodes with :func:`pickletools.genops`, which
decodes them and executes nothing.

Whether a module is importable is answered by :func:`locate`, which walks the import path
with :class:`importlib.machinery.PathFinder` one dotted segment at a time. Unlike
``importlib.util.find_spec("a.b")``, which imports the package ``a`` (running its
``__init__``) to learn where ``a.b`` lives, this runs no code of the module or its
packages. It can miss a package that rewrites its ``__path__`` at import (pkgutil-style
namespace hacks); then the finding says so and the fix is the same.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Sequence
from importlib.machinery import FrozenImporter, ModuleSpec, PathFinder

# The opcode reader is the one the release-1 migration uses; the doctor adds only where
# the modules it names are, and whether they define what the pickle loads.
from gamelift_backfill.provider_reference import (
    PickleUnreadableError,
    Reference,
    decode,
    references,
)

__all__ = [
    "ALWAYS_THERE",
    "PickleUnreadableError",
    "Reference",
    "decode",
    "defines",
    "locate",
    "references",
]

# Modules every Python has; never worth a finding.
ALWAYS_THERE = frozenset({"builtins", "__builtin__", "copyreg", "copy_reg", "__main__"})


def locate(module: str, search_path: Sequence[str] | None = None) -> ModuleSpec | None:
    """The spec of ``module`` on ``search_path`` (default ``sys.path``), found without
    running any code (see the module docstring); None when it is not there."""
    paths: Iterable[str] | None = list(search_path) if search_path is not None else sys.path
    spec: ModuleSpec | None = None
    parts = module.split(".")
    for depth in range(len(parts)):
        name = ".".join(parts[: depth + 1])
        if depth == 0 and name in sys.builtin_module_names:
            return ModuleSpec(name, None, origin="built-in")
        if depth == 0 and (frozen := FrozenImporter.find_spec(name)) is not None:
            return frozen
        spec = PathFinder.find_spec(name, list(paths) if paths is not None else None)
        if spec is None:
            return None
        paths = spec.submodule_search_locations
        if paths is None and depth < len(parts) - 1:
            return None  # a plain module has no submodules
    return spec


def defines(spec: ModuleSpec, name: str) -> bool | None:
    """Whether the module's source binds ``name`` at top level (a class, def, assignment or
    import), read with ``ast``; None when there is no Python source to read."""
    origin = spec.origin
    if not origin or not origin.endswith(".py"):
        return None
    try:
        with open(origin, encoding="utf-8") as handle:
            tree = ast.parse(handle.read(), origin)
    except (OSError, SyntaxError, ValueError):
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            if node.name == name:
                return True
        elif isinstance(node, ast.Import | ast.ImportFrom):
            for alias in node.names:
                bound = alias.asname or alias.name.split(".")[0]
                if bound == name or alias.name == "*":
                    return True
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                return True
    return False
