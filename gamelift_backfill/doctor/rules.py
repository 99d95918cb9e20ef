"""The doctor's rules over a :class:`Stack`; each returns findings as data.

Rules 1 to 3 (:data:`DESIGN_RULES`) need only the resource graph and its values, so the
policy pack runs them on a preview; rules 4 and 5 need a state (pending operations, the
stored provider pickle). Rule 6 (live tickets) is in :mod:`.live`. Rule 7
(:func:`automatic_backfill_recommendations`) is advice, not a fault: it adds notes, so the
exit status stays what the findings make it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from . import pickles
from .model import DYNAMIC_TYPES, Finding, Kind, Resource, Stack, Unknown

PROTECTORS: tuple[Kind, ...] = ("guard", "ticket")
USED_BY_CONFIGURATION: tuple[Kind, ...] = ("fleet", "queue", "alias")
PROVIDER_KEY = "__provider"

Rule = Callable[[Stack], list[Finding]]


# -- reading values ---------------------------------------------------------------------


def backfill_mode(configuration: Resource) -> str | Unknown:
    """AUTOMATIC, MANUAL, or Unknown; absent means GameLift's default (MANUAL), and a
    STANDALONE configuration (no queue) has no automatic backfill."""
    props: Mapping[str, Any] | Unknown
    if configuration.kind == "configuration" and configuration.type.startswith("aws:cloudcontrol"):
        props = configuration.cloud_control_properties()
        if isinstance(props, Unknown):
            return props
        mode, flex = props.get("BackfillMode"), props.get("FlexMatchMode")
    else:
        mode = configuration.prop("backfillMode", "backfill_mode")
        flex = configuration.prop("flexMatchMode", "flex_match_mode")
    if isinstance(mode, Unknown):
        return mode
    if isinstance(flex, str) and flex.upper() == "STANDALONE":
        return "MANUAL"
    if mode is None:
        return "MANUAL"
    return mode.upper() if isinstance(mode, str) else Unknown(f"backfill mode {mode!r}")


def _config_props(configuration: Resource) -> Mapping[str, Any]:
    if configuration.type.startswith("aws:cloudcontrol"):
        props = configuration.cloud_control_properties()
        return props if isinstance(props, Mapping) else {}
    return {**configuration.inputs, **configuration.outputs}


def configuration_name(configuration: Resource) -> str:
    """The configuration's GameLift name (its ID when nothing better is known)."""
    props = _config_props(configuration)
    name = props.get("Name", props.get("name"))
    return name if isinstance(name, str) else (configuration.id or configuration.name)


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def queue_refs(configuration: Resource) -> list[str]:
    """The queue ARNs (or names) the configuration places matches on."""
    props = _config_props(configuration)
    for key in ("GameSessionQueueArns", "gameSessionQueueArns", "game_session_queue_arns"):
        if key in props:
            return _strings(props[key])
    return []


def destination_refs(queue: Resource) -> list[str]:
    """The fleet or alias ARNs a queue places game sessions on (any provider's spelling)."""
    props: Mapping[str, Any] = {**queue.inputs, **queue.outputs}
    if queue.type.startswith("aws:cloudcontrol"):
        cc = queue.cloud_control_properties()
        props = cc if isinstance(cc, Mapping) else {}
    found: list[str] = []
    for item in props.get("destinations", props.get("Destinations")) or []:
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping):
            found += _strings(item.get("destinationArn", item.get("DestinationArn")))
    return found


def protector_configuration(protector: Resource) -> str | Unknown | None:
    """The configuration name or ARN a guard or ticket names (None when it names none)."""
    value = protector.prop("configuration_name", "configurationName")
    return value if isinstance(value, str | Unknown) else None


def protector_fleets(protector: Resource) -> list[str]:
    """The fleet IDs, ARNs or aliases a guard drains."""
    return _strings(protector.prop("fleet_ids", "fleetIds"))


class Lookup:
    """Finds resources of the stack by the names, IDs and ARNs values use for them."""

    def __init__(self, stack: Stack) -> None:
        self.by_ref: dict[tuple[Kind, str], list[Resource]] = {}
        for resource in stack.resources.values():
            kind = resource.kind
            if kind is None:
                continue
            refs = resource.names_and_arns()
            if kind == "configuration":
                refs.add(configuration_name(resource))
            for ref in refs:
                self.by_ref.setdefault((kind, ref), []).append(resource)

    def find(self, kinds: Iterable[Kind], refs: Iterable[str]) -> list[Resource]:
        """The resources of ``kinds`` that ``refs`` name (ID, name, ARN or ARN tail)."""
        found: dict[str, Resource] = {}
        for ref in refs:
            for candidate in {ref, ref.rsplit("/", 1)[-1]}:
                for kind in kinds:
                    for resource in self.by_ref.get((kind, candidate), []):
                        found[resource.urn] = resource
        return list(found.values())


def _why(value: object) -> str:
    return value.why if isinstance(value, Unknown) else repr(value)


def _var(resource: Resource) -> str:
    """A Python variable name for a resource in a code fix."""
    name = re.sub(r"\W+", "_", resource.name).strip("_").lower() or "resource"
    return name if not name[0].isdigit() else f"r_{name}"


def _guards_and_tickets(stack: Stack) -> list[Resource]:
    return [r for r in stack.resources.values() if r.kind in PROTECTORS]


# -- rule 1: a configuration nothing guards ---------------------------------------------


def unguarded_configurations(stack: Stack) -> list[Finding]:
    """A configuration with automatic (or unknown) backfill that no guard or ticket depends
    on, directly or transitively, and that none names (naming without depending is rule 3)."""
    protectors = _guards_and_tickets(stack)
    depended_on: set[str] = set()
    named: set[str] = set()
    lookup = Lookup(stack)
    for protector in protectors:
        depended_on |= stack.closure(protector.urn)
        ref = protector_configuration(protector)
        if isinstance(ref, str):
            named |= {c.urn for c in lookup.find(["configuration"], [ref])}
    findings = []
    guarded = depended_on | named
    for configuration in stack.of_kind("configuration"):
        if configuration.external or configuration.urn in guarded:
            continue
        mode = backfill_mode(configuration)
        if mode not in ("AUTOMATIC",) and not isinstance(mode, Unknown):
            continue
        findings.append(_unguarded(stack, lookup, configuration, mode))
    return findings


def _unguarded(
    stack: Stack, lookup: Lookup, configuration: Resource, mode: str | Unknown
) -> Finding:
    name = configuration_name(configuration)
    queues = lookup.find(["queue"], queue_refs(configuration))
    queues += [
        q for q in stack.ordered(stack.closure(configuration.urn), "queue") if q not in queues
    ]
    fleets = lookup.find(["fleet", "alias"], [d for q in queues for d in destination_refs(q)])
    fleet_ids = sorted({f.id or f.name for f in fleets}) or ["FLEET_ID"]
    why = (
        "its backfill mode is AUTOMATIC"
        if mode == "AUTOMATIC"
        else f"its backfill mode cannot be known here ({_why(mode)}), so it may be AUTOMATIC"
    )
    depends = ", ".join(_var(r) for r in [configuration, *queues, *fleets])
    fleet_args = ", ".join(f"{_var(f)}.id" for f in fleets) or '"FLEET_ID"'
    return Finding(
        rule="unguarded-configuration",
        title=f"Matchmaking configuration {name} has no BackfillGuard",
        at_destroy=(
            f"{why}, and no BackfillGuard or BackfillTicket depends on it. GameLift keeps "
            "backfill tickets running on its game sessions, so DeleteMatchmakingConfiguration "
            "is refused while they are active and `pulumi destroy` stalls or fails on it."
        ),
        urns=(configuration.urn,),
        fix=(
            "add a guard that depends on it, in the program:\n"
            f'    BackfillGuard("{configuration.name}-guard", BackfillGuardArgs(\n'
            f"        fleet_ids=[{fleet_args}], configuration_name={_var(configuration)}.id),\n"
            f"        pulumi.ResourceOptions(depends_on=[{depends}]))\n"
            "then `pulumi up`. A destroy already stuck: `gamelift-backfill drain "
            f"--fleet-id {' --fleet-id '.join(fleet_ids)} --configuration-name {name}`, "
            "then `pulumi destroy` again."
        ),
        details={
            "configuration_name": name,
            "backfill_mode": mode if isinstance(mode, str) else None,
            "queues": [q.urn for q in queues],
            "fleets": [f.urn for f in fleets],
        },
    )


# -- rule 2: a guard or ticket whose delete does not run --------------------------------

_SKIPS: Mapping[str, tuple[str, str]] = {
    "protect": (
        "`pulumi destroy` refuses to delete a protected resource and stops, so "
        "StopMatchmaking never runs and everything it protects stays",
        "remove `protect=True` from its resource options and `pulumi up`, or now: "
        "`pulumi state unprotect '{urn}'`",
    ),
    "retain_on_delete": (
        "the engine drops it from the state without calling its delete (retainOnDelete), "
        "so StopMatchmaking never runs and the configuration's delete stalls on its tickets",
        "remove `retain_on_delete=True` from its resource options, then `pulumi up` before "
        "`pulumi destroy`",
    ),
    "deleted_with": (
        "the engine skips its delete when {target} is deleted in the same operation "
        "(deletedWith), so StopMatchmaking never runs",
        "remove `deleted_with=...` from its resource options, then `pulumi up` before "
        "`pulumi destroy`",
    ),
    "external": (
        "it is an external (read, not created) resource: the engine never deletes it, so "
        "StopMatchmaking never runs",
        "declare it as a resource of the stack instead of reading it (`pulumi state delete "
        "'{urn}'`, then `pulumi up`), or before destroy run `gamelift-backfill drain` over "
        "its fleets",
    ),
}


def skipped_deletes(stack: Stack) -> list[Finding]:
    """A guard or ticket with protect, retainOnDelete, deletedWith or external."""
    findings = []
    for protector in _guards_and_tickets(stack):
        flags = {
            "protect": protector.protect,
            "retain_on_delete": protector.retain_on_delete,
            "deleted_with": protector.deleted_with is not None,
            "external": protector.external,
        }
        for flag, on in flags.items():
            if not on:
                continue
            happens, fix = _SKIPS[flag]
            target = protector.deleted_with or ""
            findings.append(
                Finding(
                    rule="delete-skipped",
                    title=f"{protector.name} is never deleted ({flag})",
                    at_destroy=happens.format(target=target, urn=protector.urn),
                    urns=(protector.urn, *([target] if target else [])),
                    fix=fix.format(urn=protector.urn),
                    details={"option": flag},
                )
            )
    return findings


# -- rule 3: a guard that does not depend on what its configuration uses ----------------


def missing_dependencies(stack: Stack) -> list[Finding]:
    """A guard or ticket that does not depend on the configuration it protects, or on a
    fleet, queue or alias that configuration uses: the engine may delete those first."""
    lookup = Lookup(stack)
    findings = []
    for protector in _guards_and_tickets(stack):
        closure = stack.closure(protector.urn)
        needed = _needed(stack, lookup, protector, closure)
        missing = {
            urn: why
            for urn, why in needed.items()
            if urn not in closure and urn != protector.urn and not stack.resources[urn].external
        }
        if not missing:
            continue
        names = ", ".join(_var(stack.resources[u]) for u in missing)
        findings.append(
            Finding(
                rule="missing-dependency",
                title=f"{protector.name} does not depend on {len(missing)} resource(s) it protects",
                at_destroy=(
                    "nothing orders these deletes after the guard's, so the engine may delete "
                    "them first or at the same time: "
                    + "; ".join(f"{stack.resources[u].name} ({why})" for u, why in missing.items())
                    + ". A configuration deleted first is refused while tickets hold it; a "
                    "fleet or queue deleted first ends sessions the guard should have drained."
                ),
                urns=(protector.urn, *missing),
                fix=(
                    f"add them to the guard's depends_on (or pass their outputs as its inputs): "
                    f"`pulumi.ResourceOptions(depends_on=[..., {names}])`, then `pulumi up`"
                ),
                details={"missing": list(missing)},
            )
        )
    return findings


def guarded_configurations(
    stack: Stack, lookup: Lookup, protector: Resource, closure: set[str]
) -> list[Resource]:
    """The configurations a guard or ticket protects: those it depends on, then the one its
    ``configurationName`` names, if that is a resource of the stack."""
    configurations = stack.ordered(closure, "configuration")
    ref = protector_configuration(protector)
    if isinstance(ref, str):
        configurations += [
            c for c in lookup.find(["configuration"], [ref]) if c not in configurations
        ]
    return configurations


def _needed(stack: Stack, lookup: Lookup, protector: Resource, closure: set[str]) -> dict[str, str]:
    needed: dict[str, str] = {}
    for configuration in guarded_configurations(stack, lookup, protector, closure):
        name = configuration_name(configuration)
        needed.setdefault(configuration.urn, "the configuration it protects")
        queues = lookup.find(["queue"], queue_refs(configuration))
        used_by = stack.closure(configuration.urn)
        queues += [q for q in stack.ordered(used_by, "queue") if q not in queues]
        for queue in queues:
            needed.setdefault(queue.urn, f"a queue of {name}")
            for fleet in lookup.find(["fleet", "alias"], destination_refs(queue)):
                needed.setdefault(fleet.urn, f"a destination of {queue.name}")
        for used in stack.ordered(used_by, *USED_BY_CONFIGURATION):
            needed.setdefault(used.urn, f"used by {name}")
    for fleet in lookup.find(["fleet", "alias"], protector_fleets(protector)):
        needed.setdefault(fleet.urn, "a fleet it drains")
    return needed


# -- rule 4: interrupted operations -----------------------------------------------------

_PENDING: Mapping[str, tuple[str, str]] = {
    "creating": (
        "a create was interrupted: GameLift may hold what it created (a backfill ticket "
        "already started) while the state does not, so no delete will ever stop it; the "
        "next `pulumi up`/`destroy` only warns and drops the pending create",
        "`pulumi refresh --clear-pending-creates`, then stop what it may have started: "
        "`gamelift-backfill drain --fleet-id FLEET --configuration-name {configuration}`",
    ),
    "deleting": (
        "a delete was interrupted: its StopMatchmaking may or may not have run. A second "
        "`pulumi destroy` runs the delete again from the start (stopping is safe to "
        "repeat); `pulumi refresh` first drops it if it is already gone",
        "`pulumi destroy` again (or `pulumi refresh`, then `pulumi destroy`)",
    ),
    "updating": (
        "an update was interrupted: the state may hold its old properties. `pulumi refresh` "
        "reads it back; a second `pulumi destroy` deletes it with what the state holds",
        "`pulumi refresh`, then `pulumi destroy`",
    ),
}
_PENDING_OTHER = (
    "a {op} operation was interrupted; the next update clears it",
    "`pulumi refresh`, then run the command again",
)
# A run killed mid-operation (SIGKILL, a lost CI runner) also leaves its lock: with a
# self-managed backend the real engine refuses every next command until `pulumi cancel`.
_KILLED_RUN = (
    ". A run that was killed also leaves the stack locked: the next command refuses to "
    "start (`the stack is currently locked`) until `pulumi cancel`"
)
_KILLED_RUN_FIX = (
    "; if a command says the stack is locked and no pulumi command runs on it any more, "
    "`pulumi cancel` first"
)


def pending_operations(stack: Stack) -> list[Finding]:
    """Pending operations and pending deletes (replaced, not yet deleted) of guards,
    tickets and configurations, and what the next refresh or destroy does with them."""
    findings = []
    for resource in stack.every():
        if resource.kind not in (*PROTECTORS, "configuration"):
            continue
        ref = protector_configuration(resource)
        configuration = (
            configuration_name(resource)
            if resource.kind == "configuration"
            else ref
            if isinstance(ref, str)
            else "CONFIGURATION"
        )
        interrupted_delete = resource.pending_delete and resource.pending_operation == "deleting"
        if resource.pending_operation and not interrupted_delete:
            op = resource.pending_operation
            happens, fix = _PENDING.get(op, _PENDING_OTHER)
            findings.append(
                Finding(
                    rule="pending-operation",
                    title=f"{resource.name} has a pending {op} operation",
                    at_destroy=happens.format(op=op) + _KILLED_RUN,
                    urns=(resource.urn,),
                    fix=fix.format(configuration=configuration) + _KILLED_RUN_FIX,
                    details={"operation": op},
                )
            )
        if resource.pending_delete:
            started = (
                "its delete had started when the run stopped (a pending `deleting` operation): "
                "its StopMatchmaking may or may not have run, and stopping is safe to repeat. "
                if interrupted_delete
                else ""
            )
            findings.append(
                Finding(
                    rule="pending-delete",
                    title=f"a replaced {resource.name} is still to be deleted",
                    at_destroy=started
                    + (
                        "the next `pulumi up` or `pulumi destroy` runs its delete with the "
                        "properties it was created with (its old region, endpoint, fleets and "
                        "tickets), before the rest; `pulumi refresh` reads it first and drops "
                        "it if it is gone. If its old endpoint or region is unreachable now, "
                        "that delete fails and the run stops there"
                    )
                    + (_KILLED_RUN if interrupted_delete else ""),
                    urns=(resource.urn,),
                    fix="`pulumi refresh`, then `pulumi destroy` (or `pulumi up`): it finishes it"
                    + (_KILLED_RUN_FIX if interrupted_delete else ""),
                    details={"operation": "delete", "interrupted": interrupted_delete},
                )
            )
    return findings


# -- rule 5: the dynamic provider's module ----------------------------------------------


def default_search_path() -> list[str]:
    """Where `pulumi destroy` looks for the module: the project directory (its working
    directory, first on the path of `python -m pulumi.dynamic`), then this environment."""
    return [os.getcwd(), *(p for p in sys.path if p)]


def provider_modules(stack: Stack, search_path: Sequence[str] | None = None) -> list[Finding]:
    """A dynamic guard or ticket whose pickled provider names a module (or class) that
    cannot be imported here. Reads the pickle's opcodes only; never unpickles."""
    path = list(search_path) if search_path is not None else default_search_path()
    missing: dict[tuple[str, str], list[str]] = {}
    unreadable: list[tuple[str, str]] = []
    encrypted = False
    for resource in stack.every():
        if resource.type not in DYNAMIC_TYPES:
            continue
        value = resource.prop(PROVIDER_KEY)
        if isinstance(value, Unknown):
            encrypted = True
            continue
        if not isinstance(value, str):
            continue
        try:
            refs = pickles.references(pickles.decode(value))
        except pickles.PickleUnreadableError as exc:
            unreadable.append((resource.urn, str(exc)))
            continue
        for ref in refs:
            if ref.module.split(".")[0] in pickles.ALWAYS_THERE:
                continue
            spec = pickles.locate(ref.module, path)
            if spec is None:
                missing.setdefault((ref.module, ""), []).append(resource.urn)
            elif pickles.defines(spec, ref.name) is False:
                missing.setdefault((ref.module, ref.name), []).append(resource.urn)
    if encrypted:
        stack.notes.append(
            "provider modules not checked: `__provider` is an encrypted secret; "
            "export with `pulumi stack export --show-secrets` to check them"
        )
    findings = [_module_finding(module, name, urns) for (module, name), urns in missing.items()]
    findings += [
        Finding(
            rule="provider-unreadable",
            title="a dynamic resource's stored provider cannot be read",
            at_destroy=f"`pulumi destroy` cannot load its provider ({why}) and fails on it",
            urns=(urn,),
            fix="restore the state from a backup (`pulumi stack export --version N` of an "
            "earlier update, then `pulumi stack import`)",
        )
        for urn, why in unreadable
    ]
    return findings


def _module_finding(module: str, name: str, urns: list[str]) -> Finding:
    file = module.replace(".", "/") + ".py"
    what = f"module {module} has no {name}" if name else f"module {module} is not importable here"
    return Finding(
        rule="provider-module-missing",
        title=what,
        at_destroy=(
            f"the state stores its provider by reference to {module}"
            + (f".{name}" if name else "")
            + "; `pulumi destroy` imports it again from the project directory and fails on "
            "this resource's delete (`No module named ...`), so backfill is never cancelled "
            "and what it protects, deleted after it, stays"
        ),
        urns=tuple(dict.fromkeys(urns)),
        fix=(
            f"run `pulumi destroy` where {module} imports: install it into the virtualenv the "
            "project uses (`.venv/bin/pip install -e /path/to/gamelift-backfill`, for the "
            "`providers`/`gamelift_backfill` modules), or restore the file from git "
            f"(`git log --diff-filter=D --oneline -- {file}` finds the commit that removed "
            f"it; `git checkout COMMIT^ -- {file}` brings it back)"
        ),
        details={"module": module, "name": name or None},
    )


# -- rule 7: a guard that could remove the cause ----------------------------------------

OPT_IN = ("disable_automatic_backfill", "disableAutomaticBackfill")


def automatic_backfill_recommendations(stack: Stack) -> list[str]:
    """A guard over a configuration of this same stack whose backfill mode is AUTOMATIC
    (or unknown here), without the opt-in that sets it to MANUAL on delete: recommend it.

    The opt-in changes the configuration, so it is recommended only when the stack owns
    the configuration (not an external one) and destroys it in the same run.
    """
    lookup = Lookup(stack)
    notes = []
    for guard in stack.of_kind("guard"):
        if guard.prop(*OPT_IN) is True:
            continue
        configurations = guarded_configurations(stack, lookup, guard, stack.closure(guard.urn))
        for configuration in configurations:
            mode = backfill_mode(configuration)
            if configuration.external or mode == "MANUAL":
                continue
            why = "AUTOMATIC" if mode == "AUTOMATIC" else f"unknown here ({_why(mode)})"
            notes.append(
                f"recommendation: {guard.name} guards matchmaking configuration "
                f"{configuration_name(configuration)}, a resource of this stack, whose backfill "
                f"mode is {why}. Set `disableAutomaticBackfill: true` on the guard (Python: "
                "`disable_automatic_backfill=True`): on delete it sets the configuration's "
                "BackfillMode to MANUAL before draining, so GameLift starts no replacement "
                "backfill ticket and the destroy waits for none. The same destroy deletes the "
                "configuration, so the change affects no one else."
            )
    return notes


DESIGN_RULES: tuple[Rule, ...] = (unguarded_configurations, skipped_deletes, missing_dependencies)
"""Rules 1-3: what the policy pack runs on a preview."""


def check_state(stack: Stack, search_path: Sequence[str] | None = None) -> list[Finding]:
    """Rules 1 to 5 over an exported state; rule 7's recommendations go to ``stack.notes``."""
    findings = [finding for rule in DESIGN_RULES for finding in rule(stack)]
    findings += pending_operations(stack)
    findings += provider_modules(stack, search_path)
    stack.notes.extend(automatic_backfill_recommendations(stack))
    return findings
