"""One FlexMatch backfill ticket as a Pulumi resource whose destroy cancels it.

CONTRACT: this module path and the names `BackfillTicket`, `BackfillTicketArgs` and
`BackfillTicketProvider` are stored (by reference, through dill) in the state of every
stack that uses them. `pulumi destroy` imports this module again to delete; renaming or
moving it breaks the destroy of existing stacks.

The dynamic provider's adapter of :mod:`gamelift_backfill.behaviour.ticket`: the inputs
come from the one declaration (``declaration.TICKET``), the behaviour is shared with the
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

from gamelift_backfill.behaviour.ticket import (
    DEFAULT_TIMEOUT,
    DERIVED_KEY,
    IDENTITY_KEYS,
    INPUT_NAMES,
    OUTPUT_NAMES,
    REPLACE_KEYS,
    Ticket,
    derived_ticket_id,
)
from gamelift_backfill.declaration import TICKET
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
    "DEFAULT_TIMEOUT",
    "DERIVED_KEY",
    "INPUT_NAMES",
    "OUTPUT_NAMES",
    "REPLACE_KEYS",
    "BackfillTicket",
    "BackfillTicketArgs",
    "BackfillTicketProvider",
]


class BackfillTicketArgs(DeclaredArgs):
    __doc__ = args_doc(
        TICKET,
        """Inputs of a `BackfillTicket`.

        Two ways to create one: start a backfill (`configuration_name` with
        `game_session_arn` and/or `players`), or adopt an existing ticket (`ticket_id`
        alone, e.g. an automatic backfill ticket). Pulumi's `import` cannot reach a dynamic
        provider, so adoption is how an existing ticket comes under a stack.""",
    )
    declaration = TICKET


class BackfillTicketProvider(ConfiguredProvider):
    """Translates Pulumi's check/diff/create/read/update/delete into the shared behaviour."""

    def _ticket(self) -> Ticket:
        return Ticket(self._config, DYNAMIC, pulumi.log)

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate offline; resolve region and endpoint so that diff compares like with like."""
        checked = self._ticket().check(news)
        return CheckResult(checked.inputs, check_failures(checked.failures))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Replace (old ticket stopped first) on what defines the ticket; update the rest."""
        diffed = self._ticket().diff(olds, news)
        # A release-1 state (`providers.backfill_ticket`) updates in place to re-record
        # the package's provider reference (provider_reference.py).
        rerecord = needs_new_reference(olds, news)
        return DiffResult(
            changes=diffed.changes or rerecord,
            replaces=diffed.replaces,
            delete_before_replace=diffed.delete_before_replace,
        )

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Start a backfill or adopt an existing ticket; store where it lives."""
        derived = props.get(DERIVED_KEY)
        with worded():
            id_, outs = self._ticket().create(props, derived if isinstance(derived, str) else None)
        return CreateResult(id_, outs)

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The live status; a ticket GameLift no longer returns is dropped (empty ID)."""
        with worded():
            found, outs = self._ticket().read(id_, props)
        return ReadResult(found, outs)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Only endpoint and timeout change in place: no API call; every output returned."""
        with worded():
            return UpdateResult(self._ticket().update(olds, news))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """StopMatchmaking, then wait until the ticket is final or gone, or raise.

        On any error (the core's data phrased with this front end's fix) the engine keeps
        the resource, so the next destroy finishes the job.
        """
        with worded():
            self._ticket().delete(id_, props)


class BackfillTicket(Resource, module="gamelift", name="BackfillTicket"):
    """A FlexMatch backfill ticket; `pulumi destroy` stops it and waits until it ended.

    Every property of ``declaration.TICKET`` is an output attribute (``ticket.status``).
    """

    def __init__(
        self,
        resource_name: str,
        args: BackfillTicketArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=list(TICKET.secret_names))
        props = args.to_props()
        for name in TICKET.secret_names:
            if props.get(name) is not None:
                # The engine stores inputs as the program gives them
                # (additional_secret_outputs covers outputs only): player IDs must be
                # secret in the state's inputs too.
                props[name] = pulumi.Output.secret(props[name])
        if args.ticket_id is None:
            # The provider never sees the URN: the stable ID is derived here (docstring of
            # `derive_ticket_id`); secret players make it secret, which is harmless.
            project, stack = pulumi.get_project(), pulumi.get_stack()
            identity = pulumi.Output.all(**{key: getattr(args, key) for key in IDENTITY_KEYS})
            props[DERIVED_KEY] = identity.apply(
                lambda given: derived_ticket_id(project, stack, resource_name, given)
            )
        super().__init__(
            BackfillTicketProvider(),
            resource_name,
            props,
            pulumi.ResourceOptions.merge(opts, secret),
        )

    def __getattr__(self, name: str) -> pulumi.Output[Any]:
        """Typing only: outputs are set as attributes by the SDK, by the declaration's names."""
        raise AttributeError(name)


BackfillTicket.__annotations__ = output_annotations(TICKET)
