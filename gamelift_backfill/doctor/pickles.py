"""What a dynamic provider's ``__provider`` pickle refers to, found without unpickling it.

``__provider`` is the base64 of a dill pickle of the provider instance. A provider class
imported from a module is pickled by reference (GLOBAL / STACK_GLOBAL opcodes naming the
module and the class), and ``pulumi destroy`` imports that module again. Unpickling would
run whatever the pickle says, so :func:`references` only walks the opcodes with
:func:`pickletools.genops`, which decodes them and executes nothing.

Whether a module is importable is answered by :func:`locate`, which walks the import path
with :class:`importlib.machinery.PathFinder` one dotted segment at a time. Unlike
``importlib.util.find_spec("a.b")``, which imports the package ``a`` (running its
``__init__``) to learn where ``a.b`` lives, this runs no code of the module or its
packages. It can miss a package that rewrites its ``__path__`` at import (pkgutil-style
namespace hacks); then the finding says so and the fix is the same.
"""

from __future__ import annotations

import ast
import base64
import binascii
import pickletools
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib.machinery import FrozenImporter, ModuleSpec, PathFinder

# Modules every Python has; never worth a finding.
ALWAYS_THERE = frozenset({"builtins", "__builtin__", "copyreg", "copy_reg", "__main__"})
# A provider pickle is a few hundred bytes; a dill pickle by value a few hundred KiB.
MAX_PICKLE_BYTES = 16 * 1024 * 1024
_STRING_OPS = frozenset(
    {
        "SHORT_BINUNICODE",
        "BINUNICODE",
        "BINUNICODE8",
        "UNICODE",
        "STRING",
        "BINSTRING",
        "SHORT_BINSTRING",
    }
)
_MEMO_GETS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_MEMO_PUTS = frozenset({"PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE"})


class PickleUnreadableError(ValueError):
    """The value is not a base64 pickle that pickletools can walk."""


@dataclass(frozen=True)
class Reference:
    """A global a pickle loads: ``module.name``."""

    module: str
    name: str


def decode(value: str) -> bytes:
    """The pickle bytes of a ``__provider`` value (base64)."""
    if len(value) > MAX_PICKLE_BYTES * 4 // 3 + 4:
        raise PickleUnreadableError("larger than a provider pickle can be")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PickleUnreadableError(f"not base64 ({exc})") from None


def references(data: bytes) -> list[Reference]:
    """Every global the pickle would load, in order, by reading its opcodes only.

    STACK_GLOBAL takes module and name from the stack; they are the last two strings
    pushed (directly or from the memo), which is how pickle and dill write them.
    """
    found: list[Reference] = []
    pushed: list[object] = []  # the most recent pushes: a str for a string, else None
    memo: dict[object, object] = {}
    try:
        for opcode, arg, _ in pickletools.genops(data):
            name = opcode.name
            if name in _STRING_OPS:
                pushed.append(arg if isinstance(arg, str) else None)
            elif name in _MEMO_PUTS:
                memo[len(memo) if name == "MEMOIZE" else arg] = pushed[-1] if pushed else None
            elif name in _MEMO_GETS:
                pushed.append(memo.get(arg))
            elif name == "GLOBAL" and isinstance(arg, str):
                module, _, attribute = arg.partition(" ")
                found.append(Reference(module, attribute))
                pushed.append(None)
            elif name == "STACK_GLOBAL":
                top = pushed[-2:] if len(pushed) >= 2 else [None, None]
                if isinstance(top[0], str) and isinstance(top[1], str):
                    found.append(Reference(top[0], top[1]))
                pushed.append(None)
            elif opcode.stack_after:
                pushed.append(None)
            del pushed[:-8]  # only the last few pushes are ever looked at
    except (ValueError, IndexError, KeyError, EOFError) as exc:
        raise PickleUnreadableError(f"not a readable pickle ({exc})") from None
    return found


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
