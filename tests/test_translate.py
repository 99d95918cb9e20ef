"""The translation layer every front end shares: configuration, endpoint rules, unknowns,
and each front end's words for the core's remedies."""

from __future__ import annotations

from typing import get_args

import pytest
from pulumi.output import Unknown
from pulumi.runtime.rpc import UNKNOWN

from gamelift_backfill.core.errors import (
    BackfillError,
    InputError,
    NotQuietError,
    Remedy,
    SessionState,
    TicketState,
)
from gamelift_backfill.translate import (
    CLI,
    DYNAMIC,
    NATIVE,
    UNKNOWN_VALUE,
    ProviderConfig,
    advice,
    comparable,
    endpoint_for,
    failures_of,
    region_for,
    stored_where,
)


def test_provider_configuration_wins_over_aws_region() -> None:
    """`gamelift-backfill:region` (or a native provider's bare `region`) comes before
    `aws:region`; an input comes before both."""
    both = ProviderConfig.from_mapping(
        {"aws:region": "eu-west-1", "gamelift-backfill:region": "us-west-2"}
    )
    bare = ProviderConfig.from_mapping({"region": "ap-south-1", "endpointUrl": "https://x.test"})
    assert region_for(None, both) == "us-west-2"
    assert region_for("ca-central-1", both) == "ca-central-1"
    assert (bare.region, bare.endpoint_url) == ("ap-south-1", "https://x.test")


def test_no_region_anywhere_is_phrased_per_front_end(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without any region the core names `region`; each front end says where to set it."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    with pytest.raises(InputError) as raised:
        region_for(None, ProviderConfig())
    [dynamic] = failures_of(raised.value, "region", DYNAMIC)
    [cli] = failures_of(raised.value, "region", CLI)
    assert "aws:region" in dynamic.reason
    assert "--region" in cli.reason
    assert "aws:region" not in cli.reason


def test_endpoint_from_configuration_or_environment_obeys_the_input_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A plain-http remote endpoint from the configuration or AWS_ENDPOINT_URL_GAMELIFT is
    refused naming where it came from; an input wins over both."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://remote.test:8080")
    from_env = endpoint_for(None, ProviderConfig())
    from_config = endpoint_for(None, ProviderConfig(endpoint_url="http://other.test"), "--x")
    given = endpoint_for("http://127.0.0.1:9", ProviderConfig(endpoint_url="http://other.test"))
    assert "AWS_ENDPOINT_URL_GAMELIFT" in from_env[1][0].reason
    assert from_config[1][0].field == "--x"
    assert "gamelift-backfill:endpointUrl" in from_config[1][0].reason
    assert given == ("http://127.0.0.1:9", [])


def test_stored_place_ignores_this_machines_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read and delete use the stored region and endpoint, not the environment's."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_GAMELIFT", "http://127.0.0.1:1")
    where = stored_where({"region": "us-west-2", "endpoint_url": None}, ProviderConfig())
    assert (where.region, where.endpoint_url) == ("us-west-2", None)


def test_unknowns_at_any_depth_compare_unequal() -> None:
    """A value holding an unknown (SDK object or wire sentinel) never equals anything."""
    assert comparable([1, {"a": UNKNOWN}]) is UNKNOWN_VALUE
    sdk_unknown = Unknown()  # type: ignore[no-untyped-call]
    assert comparable(sdk_unknown) != comparable(sdk_unknown)
    assert comparable([1, 2]) == [1, 2]


@pytest.mark.parametrize("remedy", get_args(Remedy))
def test_every_remedy_has_words_in_each_front_end(remedy: Remedy) -> None:
    """Each remedy the core can name becomes a sentence; the CLI's never speaks of Pulumi."""
    error = BackfillError("x.", remaining=[TicketState("t-1", "UNKNOWN")], remedies=[remedy])
    cli, dynamic = advice(error, CLI), advice(error, DYNAMIC)
    assert cli[:1].isupper()
    assert dynamic[:1].isupper()
    assert "pulumi" not in cli.lower()


def test_a_drain_left_not_quiet_points_each_front_end_at_its_own_opt_in() -> None:
    """A deadline with sessions still able to start automatic backfill names the session and
    the opt-in that removes the cause, in the words of the front end the user is in."""
    error = NotQuietError(
        [SessionState("arn:aws:gamelift:eu-west-1::gamesession/fleet-1/gs-1", "ACTIVE")], 60
    )
    assert "gs-1" in str(error)
    assert "disable_automatic_backfill=True" in advice(error, DYNAMIC)
    assert "disableAutomaticBackfill: true" in advice(error, NATIVE)
    assert "--disable-automatic-backfill" in advice(error, CLI)
    assert "disableAutomaticBackfill" not in advice(error, DYNAMIC)
