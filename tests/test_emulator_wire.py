"""The emulator's wire protocol, over real HTTP: awsJson1.1, SigV4, errors, limits."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_helpers import raw_request

from gamelift_emulator import Emulator
from gamelift_emulator.models import GameLiftBackend
from testkit.seeding import seed_configuration


def _error(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = excinfo.value.response["Error"]
    status = excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"]
    return error["Code"], error["Message"], status


def test_success_carries_request_id_and_json_content_type(emulator: Emulator) -> None:
    """A successful call answers 200 JSON with an x-amzn-RequestId header."""
    status, headers, body = raw_request(emulator.endpoint_url, b'{"TicketIds": ["nope"]}')
    assert status == 200
    assert body == {"TicketList": []}
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert len(headers["x-amzn-requestid"]) == 36


def test_errors_are_aws_shaped_with_request_id(gamelift: Any) -> None:
    """An error answers {"__type", "message"} with AWS's status, parsed by boto3."""
    with pytest.raises(gamelift.exceptions.NotFoundException) as excinfo:
        gamelift.stop_matchmaking(TicketId="unknown-ticket")
    assert _error(excinfo)[0::2] == ("NotFoundException", 400)
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


def test_wrong_secret_is_rejected_as_aws_does(
    emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """A request signed with the wrong secret gets InvalidSignatureException (400)."""
    client = make_gamelift(emulator.endpoint_url, secret_key="wrong")
    with pytest.raises(ClientError) as excinfo:
        client.describe_matchmaking(TicketIds=["a"])
    code, message, status = _error(excinfo)
    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith("The request signature we calculated does not match")


def test_unknown_access_key_is_rejected_as_aws_does(
    emulator: Emulator, make_gamelift: Callable[..., Any]
) -> None:
    """An unknown access key gets UnrecognizedClientException (400)."""
    client = make_gamelift(emulator.endpoint_url, access_key="AKIDUNKNOWN")
    with pytest.raises(ClientError) as excinfo:
        client.describe_matchmaking(TicketIds=["a"])
    assert _error(excinfo) == (
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
        400,
    )


def test_a_known_scope_does_not_vouch_for_a_tampered_signature(emulator: Emulator) -> None:
    """After a valid call in one scope, a call in that scope with another signature fails."""
    body = json.dumps({"TicketIds": ["a"]}).encode()
    assert raw_request(emulator.endpoint_url, body)[0] == 200  # the scope is now known

    def tamper(headers: dict[str, str]) -> None:
        head, signature = headers["Authorization"].rsplit("Signature=", 1)
        flipped = ("1" if signature[0] == "0" else "0") + signature[1:]
        headers["Authorization"] = f"{head}Signature={flipped}"

    status, _, answer = raw_request(emulator.endpoint_url, body, tamper=tamper)
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")


def test_unsigned_request_gets_missing_authentication_token(emulator: Emulator) -> None:
    """A request without Authorization gets MissingAuthenticationTokenException (403)."""
    status, headers, body = raw_request(emulator.endpoint_url, b"{}", sign=False)
    assert status == 403
    assert body["__type"] == "MissingAuthenticationTokenException"
    assert headers["x-amzn-requestid"]


def test_signature_for_another_service_is_rejected(emulator: Emulator) -> None:
    """A signature scoped to another service is an InvalidSignatureException."""
    status, _, body = raw_request(emulator.endpoint_url, b"{}", service="dynamodb")
    assert status == 400
    assert body["__type"] == "InvalidSignatureException"
    assert "gamelift" in body["message"]


def test_configurable_credentials_map_keys_to_accounts(
    make_emulator: Callable[..., Emulator], make_gamelift: Callable[..., Any]
) -> None:
    """Configured keys are accepted, each acting in its own account; test/test then is not."""
    emulator = make_emulator(
        credentials={"AKIDA": ("sa", "111111111111"), "AKIDB": ("sb", "2" * 12)}
    )
    a = make_gamelift(emulator.endpoint_url, access_key="AKIDA", secret_key="sa")
    b = make_gamelift(emulator.endpoint_url, access_key="AKIDB", secret_key="sb")
    a.create_game_session_queue(Name="q")
    assert (
        a.describe_game_session_queues()["GameSessionQueues"][0]["GameSessionQueueArn"].split(":")[
            4
        ]
        == "111111111111"
    )
    assert b.describe_game_session_queues()["GameSessionQueues"] == []
    with pytest.raises(ClientError, match="UnrecognizedClientException"):
        make_gamelift(emulator.endpoint_url).describe_game_session_queues()


def test_region_comes_from_the_credential_scope(
    emulator: Emulator, gamelift: Any, make_gamelift: Callable[..., Any]
) -> None:
    """State is per region, and the region is the one the request was signed for."""
    gamelift.create_game_session_queue(Name="east")
    west = make_gamelift(emulator.endpoint_url, region="eu-west-1")
    assert west.describe_game_session_queues()["GameSessionQueues"] == []
    arn = gamelift.describe_game_session_queues()["GameSessionQueues"][0]["GameSessionQueueArn"]
    assert arn.startswith("arn:aws:gamelift:us-east-1:")


def test_unknown_operation(emulator: Emulator) -> None:
    """A target naming no GameLift operation gets UnknownOperationException (400)."""
    status, _, body = raw_request(emulator.endpoint_url, b"{}", target="GameLift.MakeCoffee")
    assert (status, body["__type"]) == (400, "UnknownOperationException")
    status, _, body = raw_request(emulator.endpoint_url, b"{}", target=None)
    assert (status, body["__type"]) == (400, "UnknownOperationException")


def test_malformed_json_is_a_serialization_exception(emulator: Emulator) -> None:
    """A body that is not JSON gets SerializationException (400), not a crash."""
    status, headers, body = raw_request(emulator.endpoint_url, b'{"TicketIds": [')
    assert (status, body["__type"]) == (400, "SerializationException")
    assert headers["x-amzn-requestid"]


def test_wrong_json_type_is_a_serialization_exception(emulator: Emulator) -> None:
    """A member of the wrong JSON type (string for a list) gets SerializationException."""
    status, _, body = raw_request(emulator.endpoint_url, b'{"TicketIds": "abc"}')
    assert (status, body["__type"]) == (400, "SerializationException")


def test_cbor_request_is_refused_naming_the_protocol(emulator: Emulator) -> None:
    """A Smithy RPC v2 CBOR request gets a clear 415 naming CBOR and awsJson1.1."""
    status, headers, body = raw_request(
        emulator.endpoint_url,
        b"\xa1\x69TicketIds\x80",
        target=None,
        content_type="application/cbor",
        path="/service/GameLift/operation/DescribeMatchmaking",
        extra_headers={"smithy-protocol": "rpc-v2-cbor", "Accept": "application/cbor"},
    )
    assert status == 415
    assert body["__type"] == "UnsupportedProtocolException"
    assert "CBOR" in body["message"]
    assert "awsJson1.1" in body["message"]
    assert headers["x-amzn-requestid"]


def test_wrong_content_type_is_refused_clearly(emulator: Emulator) -> None:
    """A JSON body sent as text/plain is refused with the expected content type named."""
    status, _, body = raw_request(emulator.endpoint_url, b"{}", content_type="text/plain")
    assert status == 415
    assert "application/x-amz-json-1.1" in body["message"]


def test_constraint_violations_use_aws_validation_wording(emulator: Emulator) -> None:
    """Lengths and patterns are checked from the model, reported all at once as AWS does."""
    body = json.dumps({"TicketId": "x" * 129}).encode()
    status, _, answer = raw_request(emulator.endpoint_url, body, target="GameLift.StopMatchmaking")
    assert (status, answer["__type"]) == (400, "InvalidRequestException")
    assert answer["message"] == (
        "1 validation error detected: Value '" + "x" * 129 + "' at 'ticketId' failed to satisfy "
        "constraint: Member must have length less than or equal to 128"
    )
    body = json.dumps({"TicketId": "bad id!"}).encode()
    _, _, answer = raw_request(emulator.endpoint_url, body, target="GameLift.StopMatchmaking")
    assert "Member must satisfy regular expression pattern" in answer["message"]


def test_missing_required_and_ranges_are_validated_server_side(emulator: Emulator) -> None:
    """Required members and numeric ranges are enforced by the emulator, not only clients."""
    status, _, answer = raw_request(
        emulator.endpoint_url, b"{}", target="GameLift.StartMatchmaking"
    )
    assert (status, answer["__type"]) == (400, "InvalidRequestException")
    assert answer["message"] == (
        "2 validation errors detected: Value null at 'configurationName' failed to satisfy "
        "constraint: Member must not be null; Value null at 'players' failed to satisfy "
        "constraint: Member must not be null"
    )
    body = json.dumps({"FleetId": "fleet-1", "Limit": 0}).encode()
    _, _, answer = raw_request(emulator.endpoint_url, body, target="GameLift.DescribeGameSessions")
    assert (
        "Value '0' at 'limit' failed to satisfy constraint: Member must have value greater"
        in (answer["message"])
    )


def test_enums_and_nested_members_are_validated(emulator: Emulator) -> None:
    """Enum values and members of nested structures are checked, with their paths."""
    body = {
        "ConfigurationName": "cfg",
        "Players": [{"PlayerId": "p" * 2000, "PlayerAttributes": {"skill": {"N": 1}}}],
    }
    _, _, answer = raw_request(
        emulator.endpoint_url, json.dumps(body).encode(), target="GameLift.StartMatchmaking"
    )
    assert "at 'players.1.member.playerId'" in answer["message"]
    body = {"StatusFilter": "NOPE", "FleetId": "fleet-1"}
    _, _, answer = raw_request(
        emulator.endpoint_url, json.dumps(body).encode(), target="GameLift.DescribeGameSessions"
    )
    assert answer["__type"] == "InvalidRequestException"


def test_oversized_body_gets_413(emulator: Emulator) -> None:
    """A body over the 1 MiB cap is refused with 413 before it is read."""
    body = b'{"TicketIds": ["' + b"a" * (1024 * 1024 + 10) + b'"]}'
    status, headers, answer = raw_request(emulator.endpoint_url, body)
    assert status == 413
    assert answer["__type"] == "RequestEntityTooLargeException"
    assert headers["x-amzn-requestid"]


def test_backend_bug_is_internal_failure_not_a_crash(
    emulator: Emulator, gamelift: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unexpected exception answers InternalFailure 500 naming the request id."""

    def boom(self: GameLiftBackend, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("bug")

    monkeypatch.setattr(GameLiftBackend, "describe_matchmaking", boom)
    with pytest.raises(ClientError) as excinfo:
        gamelift.describe_matchmaking(TicketIds=["a"])
    code, message, status = _error(excinfo)
    assert (code, status) == ("InternalFailure", 500)
    assert excinfo.value.response["ResponseMetadata"]["RequestId"] in message
    monkeypatch.undo()
    assert gamelift.describe_matchmaking(TicketIds=["a"])["TicketList"] == []


def test_http_keep_alive_serves_many_requests_on_one_connection(emulator: Emulator) -> None:
    """One HTTP/1.1 connection carries several control requests in a row."""
    connection = http.client.HTTPConnection("127.0.0.1", emulator.port, timeout=5)
    try:
        for _ in range(3):
            connection.request("GET", "/_emulator/health")
            response = connection.getresponse()
            assert response.status == 200
            assert json.loads(response.read())["status"] == "ok"
    finally:
        connection.close()


def test_backfill_against_seeded_configuration_over_the_wire(gamelift: Any) -> None:
    """A round trip through several operations works with unmodified boto3."""
    seed_configuration(gamelift, name="wire-cfg")
    names = [c["Name"] for c in gamelift.describe_matchmaking_configurations()["Configurations"]]
    assert names == ["wire-cfg"]
