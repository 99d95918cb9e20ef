"""How the benches word a ratio of two measured times: faster or slower, by how much.

``compare(slower_seconds, faster_seconds)`` was written "Nx faster" whatever N was, so a
ratio below 1 read as a speed-up. Here the word follows the ratio: above or at 1 it is
"Nx faster", below 1 it is "(1/N)x slower", so the number printed is never below 1.
"""

from __future__ import annotations


def ratio_words(ratio: float) -> str:
    """``ratio`` = other's time / subject's time, as "2.5x faster" or "1.3x slower"."""
    if ratio <= 0:
        raise ValueError(f"a ratio of two measured times is positive, not {ratio}")
    if ratio >= 1:
        return f"{ratio:.1f}x faster"
    return f"{1 / ratio:.1f}x slower"
