"""The shared core: GameLift calls, waiting, discovery and validation. Knows nothing of Pulumi."""
