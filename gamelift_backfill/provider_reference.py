"""Which module a dynamic resource's stored ``__provider`` refers to, for the migration.

Release 1 lived in a project's ``providers/`` folder, so dill recorded
``providers.backfill_ticket`` / ``providers.backfill_guard`` (by reference) in the
``__provider`` of every resource it created, and a destroy must import that module again.
The package's resources diff such a state as changed: the engine then calls Update, whose
outputs the plugin stores with the program's ``__provider`` (it always sets
``outs["__provider"] = news["__provider"]``). So one ``pulumi up`` with the package
re-records the reference, after which ``providers/`` is no longer needed.

The pickle is never loaded here (loading would import the old module): its opcodes are
read to find the module names it references.
"""

from __future__ import annotations

import base64
import binascii
import pickletools
from collections.abc import Mapping
from typing import Any

PROVIDER_KEY = "__provider"
RELEASE_1_MODULES = frozenset({"providers.backfill_ticket", "providers.backfill_guard"})


def referenced_modules(serialized: str) -> set[str]:
    """Module names a serialized provider (base64 of a dill pickle) refers to by reference.

    Protocol 4+ pushes a module name as a string before STACK_GLOBAL; older protocols give
    ``"module name"`` as GLOBAL's argument. Every string of the pickle that names a module
    of ours is reported; an unreadable value refers to nothing.
    """
    try:
        data = base64.b64decode(serialized, validate=True)
        ops = list(pickletools.genops(data))
    except (binascii.Error, ValueError):
        return set()
    modules = set()
    for opcode, arg, _ in ops:
        if not isinstance(arg, str):
            continue
        name = arg.split(" ", 1)[0] if opcode.name == "GLOBAL" else arg
        if name.startswith(("providers.", "gamelift_backfill.")):
            modules.add(name)
    return modules


def refers_to_release_1(props: Mapping[str, Any]) -> bool:
    """Whether ``props["__provider"]`` names a release-1 module (``providers.*``)."""
    serialized = props.get(PROVIDER_KEY)
    return isinstance(serialized, str) and bool(referenced_modules(serialized) & RELEASE_1_MODULES)


def needs_new_reference(olds: Mapping[str, Any], news: Mapping[str, Any]) -> bool:
    """The state refers to a release-1 module and the program's provider does not: the
    diff must report a change so that Update stores the program's reference."""
    serialized = news.get(PROVIDER_KEY)
    if not isinstance(serialized, str) or not referenced_modules(serialized):
        return False  # unknown or absent (preview, a direct call): nothing to compare
    return refers_to_release_1(olds) and not refers_to_release_1(news)
