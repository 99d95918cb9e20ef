"""The Pulumi program (filled in by the program issue)."""
