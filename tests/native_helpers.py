"""Helpers of the native plugin tests: the plugin started as the engine starts it.

`native_plugin` launches ``bin/pulumi-resource-gamelift-backfill <engine-address>`` (the
checkout's executable; the installed console script runs the same `main`) through
`PluginHost`, with an `EngineStub` recording its Log calls, test credentials in its
environment and the provider configuration ``region`` / ``endpointUrl`` the way a stack's
`gamelift-backfill:region` / `gamelift-backfill:endpointUrl` reach it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from gamelift_backfill.reference import GUARD_TOKEN, PACKAGE, TICKET_TOKEN
from testkit.plugin_host import EngineStub, PluginHost, make_urn

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = ROOT / "bin" / "pulumi-resource-gamelift-backfill"
REGION = "us-east-1"
TICKET_URN = make_urn("ticket", TICKET_TOKEN, project="native-test")
GUARD_URN = make_urn("guard", GUARD_TOKEN, project="native-test")


def ticket_urn(name: str) -> str:
    return make_urn(name, TICKET_TOKEN, project="native-test")


@contextmanager
def native_plugin(
    endpoint_url: str, env: Mapping[str, str] | None = None, **config: str
) -> Iterator[PluginHost]:
    """The native plugin configured for ``endpoint_url`` in REGION (the host isolates its
    AWS environment: credentials test/test only, ``env`` on top); its engine's log in
    ``host.engine``. ``config`` overrides the provider configuration."""
    settings = {"region": REGION, "endpointUrl": endpoint_url, **config}
    host = PluginHost(
        ROOT,
        command=[str(PLUGIN)],
        package=PACKAGE,
        engine=EngineStub(),
        config={k: v for k, v in settings.items() if v},
        env=env,
    )
    with host:
        yield host
