"""The Pulumi program (`__main__.py`) under `pulumi.runtime.set_mocks`, in both modes.

The SDK's mocks do not expose dependencies, so a recording monitor keeps each
registration request: its explicit `dependencies` and `propertyDependencies` are what the
engine uses to order deletes, and so what makes backfill go first on `pulumi destroy`.
"""

from __future__ import annotations

import asyncio
import json
import runpy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings
from pulumi.runtime.mocks import MockMonitor

from program_config import ConfigError

PROGRAM = Path(__file__).resolve().parent.parent / "__main__.py"
PROJECT = "gamelift-backfill"
ACCOUNT = "123456789012"
REGION = "us-west-2"

GUARD = "pulumi-python:dynamic/gamelift:BackfillGuard"
TICKET = "pulumi-python:dynamic/gamelift:BackfillTicket"
FLEET = "aws:gamelift/fleet:Fleet"
QUEUE = "aws:gamelift/gameSessionQueue:GameSessionQueue"
CLOUD_CONTROL = "aws:cloudcontrol/resource:Resource"


@dataclass
class Registration:
    """One resource as the engine would have been asked to register (or read) it."""

    type: str
    urn: str
    inputs: dict[str, Any]
    dependencies: set[str]
    property_dependencies: dict[str, set[str]]
    read: bool = False


@dataclass
class Deployment:
    """What one run of the program registered and exported."""

    resources: dict[str, Registration] = field(default_factory=dict)
    exports: dict[str, Any] = field(default_factory=dict)

    def named(self, name: str) -> Registration:
        return self.resources[name]

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources.values() if r.type == type_]

    def urn(self, name: str) -> str:
        return self.resources[name].urn


class FakeCloud(pulumi.runtime.Mocks):
    """Answers registrations the way the providers would: IDs, ARNs, ticket statuses.

    During a preview, resources to be created have no ID or outputs yet (unknown), as
    with the real engine; resources that are read (the fleets) do.
    """

    def __init__(self, preview: bool = False) -> None:
        self.preview = preview

    def new_resource(
        self, args: pulumi.runtime.MockResourceArgs
    ) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if self.preview and args.typ != FLEET:
            return "", inputs
        if args.typ == FLEET:
            fleet_id = args.resource_id or args.name
            arn = f"arn:aws:gamelift:{REGION}:{ACCOUNT}:fleet/{fleet_id}"
            return fleet_id, {**inputs, "arn": arn}
        if args.typ == QUEUE:
            arn = f"arn:aws:gamelift:{REGION}:{ACCOUNT}:gamesessionqueue/{inputs['name']}"
            return inputs["name"], {**inputs, "arn": arn}
        if args.typ == CLOUD_CONTROL:
            name = json.loads(inputs["desiredState"])["Name"]
            return name, {**inputs, "properties": inputs["desiredState"]}
        if args.typ == GUARD:
            return "guard-id", {**inputs, "active_ticket_count": 2}
        if args.typ == TICKET:
            ticket_id = inputs.get("ticket_id") or f"generated-{args.name}"
            return ticket_id, {**inputs, "ticket_id": ticket_id, "status": "SEARCHING"}
        return f"{args.name}-id", inputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps the dependencies of every registration request."""

    def __init__(self, mocks: pulumi.runtime.Mocks, deployment: Deployment) -> None:
        super().__init__(mocks)
        self.deployment = deployment

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, response.urn, read=False)
        return response

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 (the gRPC method name)
        response = super().ReadResource(request)  # type: ignore[no-untyped-call]
        self._record(request, response.urn, read=True)
        return response

    def _record(self, request: Any, urn: str, *, read: bool) -> None:
        properties = request.properties if read else request.object
        self.deployment.resources[request.name] = Registration(
            type=request.type,
            urn=urn,
            inputs=pulumi.runtime.rpc.deserialize_properties(properties),
            dependencies=set(request.dependencies),
            property_dependencies={
                key: set(deps.urns) for key, deps in request.propertyDependencies.items()
            }
            if not read
            else {},
            read=read,
        )


class ProgramRunner:
    """Runs `__main__.py` as Pulumi would, with a given stack config, under mocks."""

    def __init__(self) -> None:
        self.last = Deployment()

    def __call__(self, config: Mapping[str, Any], *, preview: bool = False) -> Deployment:
        self.last = deployment = Deployment()
        pulumi.runtime.set_all_config(
            {
                (key if ":" in key else f"{PROJECT}:{key}"): (
                    value if isinstance(value, str) else json.dumps(value)
                )
                for key, value in config.items()
            }
        )
        settings.ROOT.set(None)  # a fresh root stack for each run
        mocks = FakeCloud(preview)
        pulumi.runtime.set_mocks(
            mocks,
            project=PROJECT,
            stack="test",
            preview=preview,
            monitor=RecordingMonitor(mocks, deployment),
        )

        @pulumi.runtime.test  # type: ignore[untyped-decorator]
        def deploy() -> pulumi.Output[None]:
            runpy.run_path(str(PROGRAM), run_name="__main__")
            stack = settings.get_root_resource()
            assert isinstance(stack, pulumi.runtime.stack.Stack)
            return pulumi.Output.from_input(stack.outputs).apply(deployment.exports.update)

        deploy()
        return deployment


@pytest.fixture
def run_program() -> Iterator[ProgramRunner]:
    """A program runner; the global config and runtime settings it sets are reset after,
    so that later tests see the SDK as they would have without this one.

    The SDK's mocks run on the thread's current event loop; an earlier `asyncio.run`
    anywhere in the session leaves the main thread with none, so each run gets its own.
    """
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    yield ProgramRunner()
    asyncio.set_event_loop(None)
    loop.close()
    asyncio.set_event_loop_policy(None)  # as before: the next get_event_loop() makes one
    pulumi.runtime.set_all_config({})
    settings.reset_options(
        project="project",
        stack="stack",
        root_directory="root_directory",
        organization="organization",
    )


GUARD_ONLY = {
    "region": "us-east-1",
    "endpointUrl": "http://127.0.0.1:47651",
    "fleetIds": ["fleet-local-demo"],
    "configurationName": "local-demo-backfill",
    "stopTimeoutSeconds": 45,
}

MANAGED = {
    "aws:region": REGION,
    "manageInfrastructure": "true",
    "fleetIds": ["fleet-aaaa", "fleet-bbbb"],
    "configurationName": "preview-42",
    "backfillGameSessions": [
        f"arn:aws:gamelift:{REGION}::gamesession/fleet-aaaa/gsess-1",
    ],
    "ticketIds": ["auto-ticket-7"],
}


def test_guard_only_registers_one_guard_over_the_configured_fleets(
    run_program: ProgramRunner,
) -> None:
    """Without managed infrastructure the stack is one guard holding the config's values."""
    deployment = run_program(GUARD_ONLY)

    assert [r.type for r in deployment.resources.values()] == [GUARD]
    guard = deployment.named("backfill-guard").inputs
    assert guard["fleet_ids"] == ["fleet-local-demo"]
    assert guard["configuration_name"] == "local-demo-backfill"
    assert guard["region"] == "us-east-1"
    assert guard["endpoint_url"] == "http://127.0.0.1:47651"
    assert guard["stop_timeout_seconds"] == 45
    assert "__provider" in guard
    assert deployment.exports["ticketIds"] == []
    assert deployment.exports["ticketStatuses"] == {}


def test_guard_only_exports_what_a_user_looks_at(run_program: ProgramRunner) -> None:
    """After up the stack shows the guarded fleets, the active ticket count and the tickets."""
    deployment = run_program({**GUARD_ONLY, "ticketIds": ["t-1", "t-2"]})

    assert deployment.exports == {
        "configurationName": "local-demo-backfill",
        "guardedFleets": ["fleet-local-demo"],
        "activeTicketCount": 2,
        "ticketIds": ["t-1", "t-2"],
        "ticketStatuses": {"t-1": "SEARCHING", "t-2": "SEARCHING"},
    }


def test_guard_only_adopts_tickets_and_starts_backfills(run_program: ProgramRunner) -> None:
    """`ticketIds` become adopted tickets and `backfillGameSessions` started ones."""
    arn = "arn:aws:gamelift:us-east-1::gamesession/fleet-local-demo/gsess-9"
    deployment = run_program({**GUARD_ONLY, "ticketIds": ["t-1"], "backfillGameSessions": [arn]})

    adopted = deployment.named("ticket-t-1").inputs
    assert adopted["ticket_id"] == "t-1"
    assert adopted.get("game_session_arn") is None
    started = deployment.named("backfill-fleet-local-demo-gsess-9").inputs
    assert started["game_session_arn"] == arn
    assert started["configuration_name"] == "local-demo-backfill"
    assert started.get("ticket_id") is None
    for ticket in (adopted, started):
        assert ticket["endpoint_url"] == "http://127.0.0.1:47651"
        assert ticket["region"] == "us-east-1"
        assert ticket["stop_timeout_seconds"] == 45


def test_managed_mode_creates_queue_rule_set_and_automatic_configuration(
    run_program: ProgramRunner,
) -> None:
    """Managed mode reads the fleets and creates a queue in front of them, a rule set and an
    automatic-backfill configuration through Cloud Control."""
    deployment = run_program(MANAGED)

    fleets = deployment.of_type(FLEET)
    assert sorted(r.urn.rsplit("::", 1)[1] for r in fleets) == [
        "fleet-aaaa",
        "fleet-bbbb",
    ]
    assert all(r.read for r in fleets)

    queue = deployment.named("queue").inputs
    assert queue["name"] == "preview-42-queue"
    assert queue["destinations"] == [
        f"arn:aws:gamelift:{REGION}:{ACCOUNT}:fleet/fleet-aaaa",
        f"arn:aws:gamelift:{REGION}:{ACCOUNT}:fleet/fleet-bbbb",
    ]

    rule_set = deployment.named("rule-set").inputs
    assert rule_set["typeName"] == "AWS::GameLift::MatchmakingRuleSet"
    rule_set_state = json.loads(rule_set["desiredState"])
    assert rule_set_state["Name"] == "preview-42-rules"
    assert [t["name"] for t in json.loads(rule_set_state["RuleSetBody"])["teams"]] == [
        "red",
        "blue",
    ]

    configuration = deployment.named("matchmaking-configuration").inputs
    assert configuration["typeName"] == "AWS::GameLift::MatchmakingConfiguration"
    assert json.loads(configuration["desiredState"]) == {
        "Name": "preview-42",
        "RuleSetName": "preview-42-rules",
        "GameSessionQueueArns": [
            f"arn:aws:gamelift:{REGION}:{ACCOUNT}:gamesessionqueue/preview-42-queue"
        ],
        "FlexMatchMode": "WITH_QUEUE",
        "BackfillMode": "AUTOMATIC",
        "AcceptanceRequired": False,
        "RequestTimeoutSeconds": 120,
    }


def test_managed_mode_guard_and_tickets_depend_on_configuration_queue_and_fleets(
    run_program: ProgramRunner,
) -> None:
    """Every backfill resource depends on the configuration, the queue and each fleet, so the
    engine deletes it (cancelling backfill) before any of them."""
    deployment = run_program(MANAGED)
    protected = {
        deployment.urn("matchmaking-configuration"),
        deployment.urn("queue"),
        deployment.urn("fleet-aaaa"),
        deployment.urn("fleet-bbbb"),
    }

    backfill = [deployment.named("backfill-guard"), *deployment.of_type(TICKET)]
    assert len(backfill) == 3
    for resource in backfill:
        assert protected <= resource.dependencies, resource.urn
    guard = deployment.named("backfill-guard")
    assert guard.property_dependencies["configuration_name"] == {
        deployment.urn("matchmaking-configuration")
    }
    assert guard.property_dependencies["fleet_ids"] == {
        deployment.urn("fleet-aaaa"),
        deployment.urn("fleet-bbbb"),
    }
    assert guard.inputs["fleet_ids"] == ["fleet-aaaa", "fleet-bbbb"]
    assert guard.inputs["configuration_name"] == "preview-42"
    assert guard.inputs["region"] == REGION


def test_managed_mode_previews_with_unknown_ids(run_program: ProgramRunner) -> None:
    """During preview, IDs and ARNs are unknown; the program still registers every resource
    with the same dependencies."""
    deployment = run_program(MANAGED, preview=True)

    assert sorted(deployment.resources) == sorted(run_program(MANAGED).resources)
    guard = deployment.named("backfill-guard")
    assert isinstance(guard.inputs["configuration_name"], pulumi.output.Unknown)
    assert deployment.urn("matchmaking-configuration") in guard.dependencies
    assert deployment.urn("queue") in guard.dependencies


def test_managed_mode_configuration_depends_on_rule_set_and_queue(
    run_program: ProgramRunner,
) -> None:
    """The configuration is created after, and deleted before, its rule set and queue."""
    deployment = run_program(MANAGED)

    configuration = deployment.named("matchmaking-configuration")
    assert {deployment.urn("rule-set"), deployment.urn("queue")} <= configuration.dependencies
    queue = deployment.named("queue")
    assert {
        deployment.urn("fleet-aaaa"),
        deployment.urn("fleet-bbbb"),
    } <= queue.dependencies


def test_managed_mode_uses_queue_destinations_and_rule_set_from_config(
    run_program: ProgramRunner,
) -> None:
    """`queueDestinations` and `ruleSetBody` replace the defaults."""
    alias = f"arn:aws:gamelift:{REGION}:{ACCOUNT}:alias/alias-1234"
    rules = {
        "name": "solo",
        "ruleLanguageVersion": "1.0",
        "teams": [{"name": "all", "maxPlayers": 8, "minPlayers": 1}],
    }
    deployment = run_program({**MANAGED, "queueDestinations": [alias], "ruleSetBody": rules})

    assert deployment.named("queue").inputs["destinations"] == [alias]
    body = json.loads(
        json.loads(deployment.named("rule-set").inputs["desiredState"])["RuleSetBody"]
    )
    assert body == rules


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({**GUARD_ONLY, "fleetIds": []}, "fleetIds"),
        ({**GUARD_ONLY, "fleetIds": "fleet-local-demo"}, "fleetIds"),
        ({**GUARD_ONLY, "endpointUrl": "http://gamelift.example.com"}, "endpointUrl"),
        ({**GUARD_ONLY, "stopTimeoutSeconds": "soon"}, "stopTimeoutSeconds"),
        ({**GUARD_ONLY, "ruleSetBody": {"teams": []}}, "ruleSetBody"),
        ({**MANAGED, "configurationName": None}, "configurationName"),
        ({**MANAGED, "manageInfrastructure": "yes"}, "manageInfrastructure"),
    ],
)
def test_bad_config_stops_the_program_before_any_resource(
    run_program: ProgramRunner, config: dict[str, Any], key: str
) -> None:
    """A bad value fails the run with a message naming the key, and nothing is registered."""
    deployment_config = {k: v for k, v in config.items() if v is not None}
    with pytest.raises(ConfigError, match=f"{PROJECT}:{key}") as raised:
        run_program(deployment_config)

    assert raised.value.key == key
    assert run_program.last.resources == {}
