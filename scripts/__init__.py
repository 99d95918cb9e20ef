"""Developer scripts (the local demo)."""
