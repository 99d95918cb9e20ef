"""The seeded randomized teardown soak (tests/soak.py): short in `make test`, long in `make soak`.

Each run prints its summary (pytest -s shows it); both run an exact number of scenarios and
judge only their outcomes. The timeouts are hang guards, far above a normal run on any machine.
"""

from __future__ import annotations

import pytest
from soak import run_soak

from gamelift_emulator import Emulator

SHORT_SCENARIOS = 200
LONG_SCENARIOS = 2000
SEED = 20240601


@pytest.mark.timeout(3600)  # a hang guard: the run takes about 90 s here
def test_short_soak_every_teardown_succeeds_or_fails_clearly_and_recovers(
    _session_emulator: Emulator,  # noqa: PT019 - its value is used
) -> None:
    """200 seeded scenarios (one in 30 through a SIGKILLed plugin; replacement automatic
    tickets after a seeded random gap): no active ticket and no session GameLift could
    still backfill after a success, the configuration deletable, every failure clear and
    recovered by a retry."""
    _session_emulator.control.reset()
    summary = run_soak(
        _session_emulator,
        scenarios=SHORT_SCENARIOS,
        seed=SEED,
        plugin_fraction=1 / 30,
    )
    print(summary.report())
    assert summary.false_successes == [], summary.report()
    assert summary.unrecovered == [], summary.report()
    assert summary.scenarios == SHORT_SCENARIOS, summary.report()
    assert any(o.killed for o in summary.outcomes), "no plugin was killed mid-delete"
    gaps = [o for o in summary.outcomes if o.scenario.replacement_delay_ms > 0]
    assert any(o.scenario.replacement_delay_ms / 1000 > o.first_delete_seconds for o in gaps)


@pytest.mark.soak_long
@pytest.mark.timeout(6 * 3600)  # a hang guard: the run takes about 25 minutes here
def test_long_soak_every_teardown_succeeds_or_fails_clearly_and_recovers(
    _session_emulator: Emulator,  # noqa: PT019 - its value is used
) -> None:
    """2,000 seeded scenarios (one in 50 through a SIGKILLed plugin), with the same checks as
    the short soak: 0 successes with a ticket active or a session not quiet, 0 unrecovered."""
    _session_emulator.control.reset()
    summary = run_soak(
        _session_emulator,
        scenarios=LONG_SCENARIOS,
        seed=SEED,
        plugin_fraction=0.02,
    )
    print(summary.report())
    assert summary.false_successes == [], summary.report()
    assert summary.unrecovered == [], summary.report()
    assert summary.scenarios == LONG_SCENARIOS, summary.report()
