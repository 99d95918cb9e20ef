"""Write the doctor's state fixtures (tests/fixtures/state/doctor/*.json).

    .venv/bin/python tests/regenerate_doctor_states.py [directory]

How each is made: the project's own program (`__main__.py`, managed mode: fleets read, a
queue, a Cloud Control rule set and configuration with automatic backfill, the guard, one
started and one adopted ticket) runs under `pulumi.runtime.set_mocks` with the recording
monitor of tests/test_program_mocks.py; every registration (type, URN, inputs, outputs,
ID, dependencies, propertyDependencies) is written in the shape `pulumi stack export
--show-secrets` writes (deployment version 3, secrets as `plaintext`). That is
`clean.json`. Each other fixture is that state with the one mistake its name says made
by hand, as a user's program or an interrupted run would leave it (see MUTATIONS):

- unguarded_configuration: the program before the guard and tickets were added.
- delete_skipped: the guard with retainOnDelete, the adopted ticket protected.
- missing_dependency: the guard names the configuration by its name string instead of
  depending on it (no depends_on, no output as input).
- pending_operations: a ticket create interrupted (pending `creating`) and a replaced
  guard still to be deleted (`delete: true`).
- provider_module_missing: the guard's provider pickled from a module that is gone
  (`backfill_providers_old.backfill_guard`, a module renamed since).
- encrypted: clean, exported without --show-secrets (secrets as `ciphertext`).

Written as the real engine (CLI 3.276) writes an export, compared with real stacks'
exports in tests/test_e2e_doctor.py: numbers that are whole are integers (60, not 60.0),
`__provider`'s `plaintext` is the JSON of the base64 string, empty `inputs`/`outputs` are
left out (Go's omitempty), a read resource's inputs are the properties given to `get()`
(the engine's ReadStep; read from its source, as no pulumi-aws plugin runs here), the
dynamic provider's default provider holds the stack config
(namespaced keys, string values) as its inputs and outputs, and the deployment has a
`metadata` object. Not reproduced: `sourcePosition`/`stackTrace` (paths of the machine
that ran the program; the doctor does not read them).
"""

from __future__ import annotations

import asyncio
import base64
import copy
import json
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import dill
import pulumi
from pulumi.runtime import settings

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

import test_program_mocks  # noqa: E402
from test_program_mocks import (  # noqa: E402
    MANAGED,
    PROJECT,
    Deployment,
    ProgramRunner,
    RecordingMonitor,
    Registration,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "state" / "doctor"
STACK = "test"
SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}
SECRET_KEYS = {"__provider"}
TIME = "2026-11-29T12:00:00.000000000Z"
AWS_PROVIDER = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::default_7_51_1"
PYTHON_PROVIDER = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:pulumi-python::default"
PROVIDER_IDS = {
    AWS_PROVIDER: "4b7e1d7c-0f5a-4c2e-9d33-7a1f0e6b2c11",
    PYTHON_PROVIDER: "9e0c2a51-6d4b-4f8e-8a27-3c5d1b9e7f02",
}


class OutputsMonitor(RecordingMonitor):
    """The recording monitor, keeping each resource's ID and outputs as well."""

    answers: ClassVar[dict[str, tuple[str, dict[str, Any]]]] = {}

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            outs = pulumi.runtime.rpc.deserialize_properties(response.object)
            self.answers[response.urn] = (response.id, outs)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().ReadResource(request)
        outs = pulumi.runtime.rpc.deserialize_properties(response.properties)
        self.answers[response.urn] = (request.id, outs)
        return response


@contextmanager
def _mocked_runtime() -> Iterator[ProgramRunner]:
    """test_program_mocks' ProgramRunner with OutputsMonitor as its monitor; the SDK's
    global config and settings reset after, as its fixture does."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    setattr(test_program_mocks, "RecordingMonitor", OutputsMonitor)  # noqa: B010
    OutputsMonitor.answers.clear()
    try:
        yield ProgramRunner()
    finally:
        setattr(test_program_mocks, "RecordingMonitor", RecordingMonitor)  # noqa: B010
        asyncio.set_event_loop(None)
        loop.close()
        pulumi.runtime.set_all_config({})
        settings.reset_options(
            project="project", stack="stack", root_directory="root", organization="org"
        )


def _secret(value: Any) -> dict[str, Any]:
    """A secret as `stack export --show-secrets` writes it: the JSON of the plain value.
    (The mocks hand `__provider` over already wrapped as a secret: unwrap it first.)"""
    if isinstance(value, dict) and SECRET_SIG.items() <= value.items() and "value" in value:
        value = value["value"]
    return {**SECRET_SIG, "plaintext": json.dumps(value)}


def _engine_numbers(value: Any) -> Any:
    """Numbers as the engine's JSON has them: a whole float is written as an integer."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_engine_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _engine_numbers(v) for k, v in value.items()}
    return value


def _bag(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _secret(v) if k in SECRET_KEYS else _engine_numbers(v) for k, v in sorted(values.items())
    }


def _stack_config() -> dict[str, str]:
    """The stack config as the engine hands it to the dynamic provider's default provider
    (and stores as its inputs and outputs): namespaced keys, every value a string."""
    return {
        (key if ":" in key else f"{PROJECT}:{key}"): (
            value if isinstance(value, str) else json.dumps(value)
        )
        for key, value in sorted(MANAGED.items())
    }


def _in_dependency_order(deployment: Deployment) -> list[Registration]:
    """Registrations as the engine writes them, each after what it depends on; ties by URN
    (registration order varies between runs: reads and registrations are asynchronous)."""
    by_urn = {r.urn: r for r in deployment.resources.values()}
    depth: dict[str, int] = {}

    def depth_of(urn: str) -> int:
        if urn not in depth:
            registration = by_urn.get(urn)
            deps = set(registration.dependencies) if registration else set()
            if registration:
                for urns in registration.property_dependencies.values():
                    deps |= urns
            depth[urn] = 1 + max((depth_of(d) for d in deps), default=0)
        return depth[urn]

    return sorted(by_urn.values(), key=lambda r: (depth_of(r.urn), r.urn))


def clean_state() -> dict[str, Any]:
    """The program's managed-mode stack after `pulumi up`, as `stack export --show-secrets`."""
    with _mocked_runtime() as run:
        deployment = run(MANAGED)
    answers = OutputsMonitor.answers
    stack_urn = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
    resources: list[dict[str, Any]] = [
        {
            "urn": stack_urn,
            "custom": False,
            "type": "pulumi:pulumi:Stack",
            "outputs": json.loads(json.dumps(deployment.exports, default=str)),
            "created": TIME,
            "modified": TIME,
        }
    ]
    for urn, provider_id in PROVIDER_IDS.items():
        provider: dict[str, Any] = {
            "urn": urn,
            "custom": True,
            "id": provider_id,
            "type": "pulumi:providers:" + urn.split("pulumi:providers:")[1].split("::")[0],
        }
        if urn == PYTHON_PROVIDER:
            provider["inputs"] = provider["outputs"] = _stack_config()
        resources.append({**provider, "created": TIME, "modified": TIME})
    for registration in _in_dependency_order(deployment):
        resource_id, outputs = answers[registration.urn]
        dynamic = registration.type.startswith("pulumi-python")
        provider_urn = PYTHON_PROVIDER if dynamic else AWS_PROVIDER
        entry: dict[str, Any] = {
            "urn": registration.urn,
            "custom": True,
            "id": resource_id,
            "type": registration.type,
        }
        if registration.inputs:  # a read's are the properties given to get(); empty: omitted
            entry["inputs"] = _bag(registration.inputs)
        entry.update(
            {
                "outputs": _bag(outputs),
                "parent": stack_urn,
                "provider": f"{provider_urn}::{PROVIDER_IDS[provider_urn]}",
                "created": TIME,
                "modified": TIME,
            }
        )
        if registration.read:
            entry["external"] = True
        if registration.dependencies:
            entry["dependencies"] = sorted(registration.dependencies)
        if registration.property_dependencies:
            entry["propertyDependencies"] = {
                key: sorted(urns)
                for key, urns in sorted(registration.property_dependencies.items())
            }
        resources.append(entry)
    return {
        "version": 3,
        "deployment": {
            "manifest": {"time": TIME, "magic": "fixture", "version": "v3.276.0"},
            "secrets_providers": {"type": "passphrase", "state": {"salt": "v1:fixture"}},
            "resources": resources,
            "metadata": {},
        },
    }


# -- the mistakes -----------------------------------------------------------------------


def _resources(state: dict[str, Any]) -> list[dict[str, Any]]:
    return state["deployment"]["resources"]  # type: ignore[no-any-return]


def _one(state: dict[str, Any], type_suffix: str, name: str | None = None) -> dict[str, Any]:
    return next(
        r
        for r in _resources(state)
        if r["type"].endswith(type_suffix) and (name is None or r["urn"].endswith("::" + name))
    )


def unguarded_configuration(state: dict[str, Any]) -> None:
    """The program before the guard and tickets were added."""
    state["deployment"]["resources"] = [
        r for r in _resources(state) if "gamelift:Backfill" not in r["type"]
    ]


def delete_skipped(state: dict[str, Any]) -> None:
    """`retain_on_delete=True` on the guard, `protect=True` on the adopted ticket."""
    _one(state, ":BackfillGuard")["retainOnDelete"] = True
    _one(state, ":BackfillTicket", "ticket-auto-ticket-7")["protect"] = True


def missing_dependency(state: dict[str, Any]) -> None:
    """The guard names the configuration by name and depends on the fleets only."""
    guard = _one(state, ":BackfillGuard")
    configuration = _one(state, "cloudcontrol/resource:Resource", "matchmaking-configuration")
    queue = _one(state, "gameSessionQueue:GameSessionQueue")
    guard["dependencies"] = [
        d for d in guard["dependencies"] if d not in (configuration["urn"], queue["urn"])
    ]
    guard["propertyDependencies"]["configuration_name"] = []


def pending_operations(state: dict[str, Any]) -> None:
    """A ticket's create interrupted, and a replaced guard not yet deleted."""
    ticket = copy.deepcopy(_one(state, ":BackfillTicket", "ticket-auto-ticket-7"))
    ticket["urn"] = ticket["urn"].replace("ticket-auto-ticket-7", "ticket-auto-ticket-8")
    ticket["inputs"]["ticket_id"] = "auto-ticket-8"
    for key in ("id", "outputs", "created", "modified"):  # none yet: the engine omits them
        ticket.pop(key)
    state["deployment"]["pending_operations"] = [{"resource": ticket, "type": "creating"}]
    old_guard = copy.deepcopy(_one(state, ":BackfillGuard"))
    old_guard["id"] = "guard-id-replaced"
    old_guard["delete"] = True
    _resources(state).append(old_guard)


def provider_module_missing(state: dict[str, Any]) -> None:
    """The guard's provider pickled from `backfill_providers_old.backfill_guard`: a real dill
    pickle of an instance whose class lived there (the module is made for the pickling only,
    then removed)."""
    name = "backfill_providers_old.backfill_guard"
    module = types.ModuleType(name)
    provider_class = type("BackfillGuardProvider", (), {"__module__": name})
    module.BackfillGuardProvider = provider_class  # type: ignore[attr-defined]
    parent = types.ModuleType("backfill_providers_old")
    parent.backfill_guard = module  # type: ignore[attr-defined]
    sys.modules.update({"backfill_providers_old": parent, name: module})
    try:
        pickled = base64.b64encode(dill.dumps(provider_class(), protocol=4, recurse=True))
    finally:
        del sys.modules[name], sys.modules["backfill_providers_old"]
    guard = _one(state, ":BackfillGuard")
    for bag in ("inputs", "outputs"):
        guard[bag]["__provider"] = _secret(pickled.decode())


def encrypted(state: dict[str, Any]) -> None:
    """Secrets as an export without --show-secrets has them (fixed ciphertext)."""
    for resource in _resources(state):
        for bag in ("inputs", "outputs"):
            for key, value in resource.get(bag, {}).items():
                if isinstance(value, dict) and "plaintext" in value:
                    resource[bag][key] = {**SECRET_SIG, "ciphertext": "v1:Zml4dHVyZQ==:c2VjcmV0"}


MUTATIONS: dict[str, Callable[[dict[str, Any]], None] | None] = {
    "clean": None,
    "unguarded_configuration": unguarded_configuration,
    "delete_skipped": delete_skipped,
    "missing_dependency": missing_dependency,
    "pending_operations": pending_operations,
    "provider_module_missing": provider_module_missing,
    "encrypted": encrypted,
}


def generate() -> dict[str, dict[str, Any]]:
    """Every fixture, by name."""
    clean = clean_state()
    states = {}
    for name, mutate in MUTATIONS.items():
        state = copy.deepcopy(clean)
        if mutate is not None:
            mutate(state)
        states[name] = state
    return states


def render(state: dict[str, Any]) -> str:
    """The fixture's text, as `pulumi stack export` indents it. The mock monitor qualifies
    a child of the stack with the stack's type in its URN; the engine does not."""
    return json.dumps(state, indent=4).replace("pulumi:pulumi:Stack$", "") + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else FIXTURES
    target.mkdir(parents=True, exist_ok=True)
    for fixture, content in generate().items():
        (target / f"{fixture}.json").write_text(render(content))
        print(f"wrote {target / fixture}.json")
