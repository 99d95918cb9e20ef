"""Write a BackfillTicket state fixture: the property bag a create stores today.

    .venv/bin/python tests/regenerate_backfill_ticket_state.py [path]

Starts a private emulator and the real plugin, creates one ticket (fixed ID, explicit
players, so the bag is stable but for the game session ARN, endpoint and start time) and
writes its outputs in the stack-export form (`plugin_host.to_state`, `__provider` and the
secret players included). The default path is the v1 fixture: committed v1 bytes must
NOT be regenerated once released, since old stacks hold exactly that; when the stored
form changes, write a v2 next to it and keep the v1 test green.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from backfill_ticket_helpers import (  # noqa: E402
    EXPLICIT_PLAYERS,
    FIXTURE_TICKET_ID,
    STATE_FIXTURE,
    plugin,
    seed,
    up,
)
from conftest import gamelift_client  # noqa: E402

from gamelift_emulator import Emulator  # noqa: E402
from testkit.aws_env import isolated_aws_env  # noqa: E402
from testkit.plugin_host import to_state  # noqa: E402


def generate(path: Path) -> dict[str, object]:
    """Create the fixture's ticket against a fresh emulator and write its state to ``path``."""
    with Emulator() as emulator, isolated_aws_env():
        world = seed(gamelift_client(emulator.endpoint_url), emulator.control)
        session = world.session()
        with plugin(emulator.endpoint_url) as host:
            _, outs = up(
                host,
                configuration_name="cfg",
                game_session_arn=session["GameSessionId"],
                players=EXPLICIT_PLAYERS,
                ticket_id=FIXTURE_TICKET_ID,
                stop_timeout_seconds=120,
            )
    state = to_state(outs)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(state, indent=2, sort_keys=True) + "\n")
    return state


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else STATE_FIXTURE
    generate(target)
    print(f"wrote {target}")
