"""Model-driven validation and fault configuration, without HTTP."""

from __future__ import annotations

import pytest

from gamelift_emulator.clock import ManualClock
from gamelift_emulator.exceptions import ThrottlingException
from gamelift_emulator.faults import FaultConfigError, FaultInjector
from gamelift_emulator.validation import RequestValidator, SerializationError, ValidationError


def test_every_model_pattern_compiles_including_java_surrogate_ranges() -> None:
    """Java patterns with UTF-16 surrogate ranges are translated and accept astral text."""
    validator = RequestValidator()
    shape = validator.model.shape_for("LaunchTemplateId")
    assert validator._patterns[shape.metadata["pattern"]].search("id-\U0001f600")


def test_unknown_members_are_dropped_and_valid_input_passes() -> None:
    """Members the model does not know are ignored, as AWS ignores them."""
    params = RequestValidator().validate("StopMatchmaking", {"TicketId": "t-1", "Extra": 1})
    assert params == {"TicketId": "t-1"}


def test_list_size_and_booleans_are_checked() -> None:
    """List sizes are reported with AWS wording; a boolean is not an integer."""
    properties = [{"Key": f"k{i}", "Value": "v"} for i in range(17)]
    params = {
        "Name": "c",
        "RequestTimeoutSeconds": 10,
        "AcceptanceRequired": False,
        "RuleSetName": "r",
        "GameProperties": properties,
    }
    with pytest.raises(ValidationError, match="at 'gameProperties' failed to satisfy constraint"):
        RequestValidator().validate("CreateMatchmakingConfiguration", params)
    with pytest.raises(SerializationError):
        RequestValidator().validate("DescribeGameSessions", {"FleetId": "fleet-1", "Limit": True})


def test_fault_configuration_is_validated() -> None:
    """Unknown keys, unknown error codes and out-of-range rates are refused."""
    injector = FaultInjector(ManualClock())
    for body in ({"nope": 1}, {"error_codes": ["NoSuchError"]}, {"error_rate": -0.1}):
        with pytest.raises(FaultConfigError):
            injector.configure(body)


def test_throttle_refills_with_the_injected_clock() -> None:
    """An empty bucket refills at `rate` tokens per second of the injected clock."""
    clock = ManualClock()
    injector = FaultInjector(clock)
    injector.configure({"throttle": {"rate": 1, "burst": 1}})
    injector.before_call("StopMatchmaking")
    with pytest.raises(ThrottlingException):
        injector.before_call("StopMatchmaking")
    clock.advance(1)
    injector.before_call("StopMatchmaking")
