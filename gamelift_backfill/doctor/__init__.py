"""``doctor``: why a teardown will stall, or is stalled, and the exact fix.

One implementation of the rules, shared by the command line (``doctor`` subcommand) and
the Pulumi policy pack (``policy/``): :mod:`.state` reads a ``pulumi stack export``,
:mod:`.model` is the resource model both front ends adapt to, :mod:`.rules` holds the
rules over it, :mod:`.pickles` reads a dynamic provider's pickle without unpickling it,
:mod:`.live` asks GameLift (read calls only) which tickets hold each configuration.
"""
