"""Bench only: the plugin's GameLift clients use the retry mode in ``BENCH_RETRY_MODE``.

The provider has no switch for botocore's retry mode (``providers.core.clients`` takes
it as an argument whose default the resources use), and the benchmark must compare
``standard`` with ``adaptive`` without editing the core. ``bench_teardown`` puts this
directory on the plugin's ``PYTHONPATH``; Python imports ``sitecustomize`` at start-up,
and this one overrides the default of ``gamelift_client`` in that process only. It says
so on stderr, and the benchmark checks that line, so a silent no-op cannot pass.
"""

from __future__ import annotations

import os
import sys

MODE = os.environ.get("BENCH_RETRY_MODE")

if MODE:
    from providers.core import clients

    defaults = clients.gamelift_client.__kwdefaults__
    if defaults is None or "retry_mode" not in defaults:
        raise RuntimeError("providers.core.clients.gamelift_client has no retry_mode default")
    defaults["retry_mode"] = MODE
    print(f"bench: GameLift clients use retry mode {MODE}", file=sys.stderr, flush=True)
