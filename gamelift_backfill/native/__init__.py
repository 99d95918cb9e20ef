"""The native Pulumi provider plugin `pulumi-resource-gamelift-backfill` (any Pulumi language)."""
