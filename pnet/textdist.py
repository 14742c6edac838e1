"""Edit distance between short names: what `did you mean` suggestions are ranked by."""

from __future__ import annotations


def levenshtein(a: str, b: str, bound: int | None = None) -> int:
    """Edit distance; with `bound`, any distance above it is reported as bound + 1, and only
    the band of cells within `bound` of the diagonal is computed (linear in the length)."""
    if a == b:
        return 0
    if bound is None:
        bound = max(len(a), len(b))
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    over = bound + 1
    prev = [j if j <= bound else over for j in range(len(b) + 1)]
    for i in range(1, len(a) + 1):
        lo = max(1, i - bound)
        hi = min(len(b), i + bound)
        cur = [over] * (len(b) + 1)
        cur[0] = i if i <= bound else over
        best = cur[0] if lo == 1 else over
        ca = a[i - 1]
        for j in range(lo, hi + 1):
            v = prev[j - 1] + (ca != b[j - 1])
            up = prev[j] + 1
            if up < v:
                v = up
            left = cur[j - 1] + 1
            if left < v:
                v = left
            if v > over:
                v = over
            cur[j] = v
            if v < best:
                best = v
        if best > bound:
            return over
        prev = cur
    return prev[-1] if prev[-1] <= bound else over


def bigrams(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1)}
