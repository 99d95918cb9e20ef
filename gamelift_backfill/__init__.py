"""Pulumi dynamic provider for GameLift FlexMatch backfill tickets."""
