"""Drains every active backfill ticket of a set of fleets when the stack is destroyed.

CONTRACT: this module path and the names `BackfillGuard`, `BackfillGuardArgs` and
`BackfillGuardProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.

The dynamic provider's adapter of :mod:`gamelift_backfill.behaviour.guard`: the inputs
come from the one declaration (``declaration.GUARD``), the behaviour is shared with the
native plugin, and what is said here is said in a Python program's words.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckResult,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from gamelift_backfill.behaviour.guard import (
    DEFAULTS,
    INPUT_NAMES,
    OUTPUT_NAMES,
    REPLACE_KEYS,
    Guard,
    GuardSettings,
)
from gamelift_backfill.declaration import GUARD
from gamelift_backfill.dynamic import (
    ConfiguredProvider,
    DeclaredArgs,
    args_doc,
    check_failures,
    output_annotations,
    worded,
)
from gamelift_backfill.provider_reference import needs_new_reference
from gamelift_backfill.translate import DYNAMIC

__all__ = [
    "DEFAULTS",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "REPLACE_KEYS",
    "BackfillGuard",
    "BackfillGuardArgs",
    "BackfillGuardProvider",
    "GuardSettings",
]


class BackfillGuardArgs(DeclaredArgs):
    __doc__ = args_doc(
        GUARD,
        """Inputs of a `BackfillGuard`.

        Make the guard depend on the fleets, the queue and the matchmaking configuration it
        protects (pass their outputs, or `depends_on`): the engine then deletes the guard,
        and so drains backfill, before any of them.""",
    )
    declaration = GUARD


class BackfillGuardProvider(ConfiguredProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared behaviour."""

    def _guard(self) -> Guard:
        return Guard(self._config, DYNAMIC, pulumi.log)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate every input offline; numbers normalised, defaults filled, unknowns kept."""
        checked = self._guard().check(news)
        return CheckResult(checked.inputs, check_failures(checked.failures))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare the stored outputs with the new inputs, normalised; only `region` replaces."""
        diffed = self._guard().diff(olds, news)
        # A release-1 state (`providers.backfill_guard`) updates in place to re-record the
        # package's provider reference (provider_reference.py).
        return DiffResult(
            changes=diffed.changes or needs_new_reference(olds, news),
            replaces=diffed.replaces,
            delete_before_replace=diffed.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Resolve region and endpoint, prove the fleets can be listed, count active tickets."""
        with worded():
            id_, outs = self._guard().create(props)
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Refresh `active_ticket_count` with the stored region and endpoint."""
        with worded():
            return ReadResult(id_, self._guard().read(id_, props))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """In place (diff replaces on a region change); returns every output."""
        with worded():
            return UpdateResult(self._guard().update(olds, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Drain with the settings stored in state; on failure the guard stays in state."""
        with worded():
            self._guard().delete(id_, props)


class BackfillGuard(Resource, module="gamelift", name="BackfillGuard"):
    """Drains every active backfill ticket of the given fleets before they are destroyed.

    Every property of ``declaration.GUARD`` is an output attribute
    (``guard.active_ticket_count``).
    """

    def __init__(
        self,
        resource_name: str,
        args: BackfillGuardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(BackfillGuardProvider(), resource_name, args.to_props(), opts)

    def __getattr__(self, name: str) -> pulumi.Output[Any]:
        """Typing only: outputs are set as attributes by the SDK, by the declaration's names."""
        raise AttributeError(name)


BackfillGuard.__annotations__ = output_annotations(GUARD)
