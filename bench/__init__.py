"""Side-by-side benchmarks (run by hand or through make targets, not timed tests)."""
