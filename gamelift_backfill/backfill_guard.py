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

from collections.abc import Sequence
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
    check_failures,
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


# BEGIN generated: BackfillGuardArgs (python -m gamelift_backfill.codegen)
class BackfillGuardArgs(DeclaredArgs):
    """Inputs of a `BackfillGuard`.

    Drains FlexMatch backfill on delete: finds every active backfill ticket of the game sessions
    on the given fleets (automatic ones included), stops them all and waits until none is active.
    Make it depend on the fleets and the matchmaking configuration it protects, so the engine
    deletes it, and drains, before them.

    Pass the fleets' and the configuration's outputs, or `depends_on` them."""

    declaration = GUARD

    fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]]
    """Fleets whose game sessions' backfill is drained: fleet IDs, fleet ARNs or alias IDs. At
    least one; every location of a fleet is covered."""

    configuration_name: pulumi.Input[str] | None
    """Only drain sessions whose MatchmakerData names this configuration (name or ARN); sessions
    of other configurations keep their backfill."""

    ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None
    """Extra tickets to stop, e.g. manual backfills started outside this stack."""

    region: pulumi.Input[str] | None
    """AWS region of the GameLift resources. Defaults to the stack config
    `gamelift-backfill:region`, then `aws:region`, then AWS_REGION / the AWS profile's region.
    Resolved at create and stored, so destroy talks to the same region from any machine. A change
    replaces the resource."""

    endpoint_url: pulumi.Input[str] | None
    """GameLift endpoint: `https://...`, or `http://` to a loopback host (the local emulator).
    Defaults to the stack config `gamelift-backfill:endpointUrl`, then AWS_ENDPOINT_URL_GAMELIFT
    / AWS_ENDPOINT_URL (the same rule applies to them), then AWS itself. Stored at create; a
    change updates in place, with no API call."""

    stop_timeout_seconds: pulumi.Input[int] | None
    """How long a delete waits for the tickets to end after StopMatchmaking (1 to 86400 seconds).
    Default: 900."""

    max_concurrency: pulumi.Input[int] | None
    """How many StopMatchmaking calls run at once during the drain (1 to 100). Default: 10."""

    disable_automatic_backfill: pulumi.Input[bool] | None
    """Before draining (a guard drains on delete), set the matchmaking configuration named by
    `configuration_name` to BackfillMode MANUAL (UpdateMatchmakingConfiguration), so GameLift
    starts no new automatic backfill ticket while the drain runs or after it. This changes a
    configuration that may belong to others: every game session of it loses automatic backfill,
    not only those on these fleets. Set it when the configuration is being deleted as well (in a
    stack: a resource of the same stack that the guard depends on), so nothing else relies on it.
    Needs `configuration_name`; the IAM policy then needs
    gamelift:UpdateMatchmakingConfiguration. A configuration already gone is no error. Default:
    false."""

    def __init__(
        self,
        *,
        fleet_ids: pulumi.Input[Sequence[pulumi.Input[str]]],
        configuration_name: pulumi.Input[str] | None = None,
        ticket_ids: pulumi.Input[Sequence[pulumi.Input[str]]] | None = None,
        region: pulumi.Input[str] | None = None,
        endpoint_url: pulumi.Input[str] | None = None,
        stop_timeout_seconds: pulumi.Input[int] | None = None,
        max_concurrency: pulumi.Input[int] | None = None,
        disable_automatic_backfill: pulumi.Input[bool] | None = None,
    ) -> None:
        self.fleet_ids = fleet_ids
        self.configuration_name = configuration_name
        self.ticket_ids = ticket_ids
        self.region = region
        self.endpoint_url = endpoint_url
        self.stop_timeout_seconds = stop_timeout_seconds
        self.max_concurrency = max_concurrency
        self.disable_automatic_backfill = disable_automatic_backfill


# END generated: BackfillGuardArgs


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

    # BEGIN generated: BackfillGuard outputs (python -m gamelift_backfill.codegen)
    fleet_ids: pulumi.Output[list[str]]
    configuration_name: pulumi.Output[str | None]
    ticket_ids: pulumi.Output[list[str] | None]
    region: pulumi.Output[str]
    endpoint_url: pulumi.Output[str | None]
    stop_timeout_seconds: pulumi.Output[int]
    max_concurrency: pulumi.Output[int]
    disable_automatic_backfill: pulumi.Output[bool]
    active_ticket_count: pulumi.Output[int]
    # END generated: BackfillGuard outputs

    def __init__(
        self,
        resource_name: str,
        args: BackfillGuardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(BackfillGuardProvider(), resource_name, args.to_props(), opts)
