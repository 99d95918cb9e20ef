"""The one test scaffolding, shared by tests/, bench/ and the demo (not part of the wheel).

* ``aws_env``: an AWS environment isolated from the developer's own (profile, region,
  endpoint and retry variables, config files, instance metadata): one variable list.
* ``seeding``: the rule set, queue and matchmaking configuration every world starts from.
* ``world``: a seeded GameLift world on an emulator (fleet, configurations, sessions, tickets).
* ``plugin_host``: plays the Pulumi engine against a provider plugin over gRPC.

The emulator launcher (a ``python -m gamelift_emulator`` subprocess) lives with the
emulator: ``gamelift_emulator.launcher``.
"""
