"""Release-1 module path of ``BackfillTicket``, kept so existing stacks' state resolves.

Re-exports :mod:`gamelift_backfill.backfill_ticket`; new code imports from there.
"""

from gamelift_backfill.backfill_ticket import (
    BackfillTicket,
    BackfillTicketArgs,
    BackfillTicketProvider,
)

__all__ = ["BackfillTicket", "BackfillTicketArgs", "BackfillTicketProvider"]
