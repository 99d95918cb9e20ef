"""How the native plugin phrases the core's remedies: its users' settings, in camelCase."""

from __future__ import annotations

from typing import Final

from gamelift_backfill.translate import Phrasebook

NATIVE: Final = Phrasebook(
    kept="the resource stays in the stack",
    retry="run `pulumi destroy` (or the `pulumi up` that failed) again to finish",
    timeout="`stopTimeoutSeconds` or the resource's `customTimeouts`",
    endpoint=(
        "`endpointUrl` (or the provider's `gamelift-backfill:endpointUrl`, "
        "AWS_ENDPOINT_URL_GAMELIFT / AWS_ENDPOINT_URL)"
    ),
    concurrency="`maxConcurrency`",
    region=(
        "set the `region` input or the provider's `gamelift-backfill:region`, or "
        "AWS_REGION / the profile's region"
    ),
    status_command="`gamelift-backfill status {ticket}` / `gamelift-backfill stop {ticket}`",
)
