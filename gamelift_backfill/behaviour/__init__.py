"""What each resource does, once, below the front ends (plain values in, plain values out).

``ticket.py`` and ``guard.py`` hold BackfillTicket's and BackfillGuard's check, diff,
create, read, update and delete over snake_case dicts, with the provider's configuration,
the front end's phrasebook and log, and the clock, sleep, progress and deadline of a
delete as parameters. The dynamic resources (``backfill_ticket.py``,
``backfill_guard.py``), the native plugin (``native/``) and the command line (``cli.py``)
each adapt them; none of them imports another. Only ``translate`` and ``core`` are used
here, and nothing of Pulumi beyond what an unknown preview value looks like.
"""
