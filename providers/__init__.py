"""Compatibility shim for stacks created before the package was renamed (release 1).

Release 1 kept the code here, in the project's ``providers/`` folder, and dill recorded
``providers.backfill_ticket.BackfillTicketProvider`` (and ``...backfill_guard...``) in every
stack's state. ``pulumi destroy`` of such a stack imports those names again, so they stay
importable from the checkout; the code itself lives in the installable package
``gamelift_backfill``. This folder is not part of the wheel.
"""
