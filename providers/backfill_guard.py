"""Release-1 module path of ``BackfillGuard``, kept so existing stacks' state resolves.

Re-exports :mod:`gamelift_backfill.backfill_guard`; new code imports from there.
"""

from gamelift_backfill.backfill_guard import (
    BackfillGuard,
    BackfillGuardArgs,
    BackfillGuardProvider,
)

__all__ = ["BackfillGuard", "BackfillGuardArgs", "BackfillGuardProvider"]
