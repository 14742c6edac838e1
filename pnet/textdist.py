"""Edit distance between short names: what `did you mean` suggestions are ranked by."""

from __future__ import annotations


def levenshtein(a: str, b: str, bound: int | None = None) -> int:
    """Edit distance; with `bound`, any distance above it is reported as bound + 1 (faster)."""
    if a == b:
        return 0
    if bound is not None and abs(len(a) - len(b)) > bound:
        return bound + 1
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        best = i
        for j, cb in enumerate(b, 1):
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            cur.append(v)
            best = min(best, v)
        if bound is not None and best > bound:
            return bound + 1
        prev = cur
    return prev[-1]


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}
