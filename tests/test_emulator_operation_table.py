"""Only the explicit operation table is dispatched; everything else is an unknown operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import botocore.session
import pytest
from emulator_helpers import raw_request

from gamelift_emulator import Emulator
from gamelift_emulator.models import GameLiftBackend
from gamelift_emulator.responses import OPERATIONS

_MODEL = botocore.session.get_session().get_service_model("gamelift")
_UNSERVED = sorted(set(_MODEL.operation_names) - set(OPERATIONS))
# Backend methods that are control operations, by the target a prober would guess.
_CONTROL_TARGETS = [
    "SeedFleet",
    "RemoveFleet",
    "SeedAlias",
    "SeedGameSession",
    "EndGameSession",
    "ForceTicketStatus",
    "ListTickets",
    "FleetRecords",
]


def test_every_served_operation_is_in_the_model_and_on_the_backend() -> None:
    """Each table entry names a real GameLift operation and an existing backend method."""
    for operation, method in OPERATIONS.items():
        assert operation in _MODEL.operation_names, operation
        assert callable(getattr(GameLiftBackend, method, None)), method


@pytest.mark.parametrize("operation", _UNSERVED)
def test_unserved_operations_answer_unknown_operation(emulator: Emulator, operation: str) -> None:
    """Any GameLift operation outside the table answers 400 UnknownOperationException, never 500."""
    target = f"GameLift.{operation}"
    status, headers, body = raw_request(emulator.endpoint_url, b"{}", target=target)
    assert (status, body) == (400, {"__type": "UnknownOperationException"})
    assert len(headers["x-amzn-requestid"]) == 36


@pytest.mark.parametrize("target", _CONTROL_TARGETS)
def test_control_methods_are_not_reachable_through_the_target(
    emulator: Emulator, target: str
) -> None:
    """A target naming a control method of the backend is an unknown operation."""
    status, _, body = raw_request(emulator.endpoint_url, b"{}", target=f"GameLift.{target}")
    assert (status, body) == (400, {"__type": "UnknownOperationException"})


def test_boto3_sees_unknown_operation_for_an_unserved_call(gamelift: Any) -> None:
    """boto3 parses the answer to an unserved operation as UnknownOperationException."""
    unserved = next(op for op in ("CreateFleet", "DeleteFleet") if op not in OPERATIONS)
    call = getattr(gamelift, botocore.xform_name(unserved))
    with pytest.raises(gamelift.exceptions.ClientError) as excinfo:
        call(**_minimal_input(unserved))
    error = excinfo.value.response
    assert error["Error"]["Code"] == "UnknownOperationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400


def _minimal_input(operation: str) -> dict[str, Any]:
    return {"CreateFleet": {"Name": "f"}, "DeleteFleet": {"FleetId": "fleet-1"}}[operation]


def test_emulator_doc_states_the_served_operation_count() -> None:
    """docs/emulator.md's count of served operations is the table's, and it names each one."""
    readme = (Path(__file__).resolve().parents[1] / "docs" / "emulator.md").read_text()
    assert f"serves **{len(OPERATIONS)} GameLift operations**" in readme
    for operation in OPERATIONS:
        assert operation in readme, operation
