"""BIO label decoding shared by the role taggers: the best label sequence that obeys BIO
(an ``I-X`` only after ``B-X`` or ``I-X``) under per-token probabilities."""
from __future__ import annotations

import functools

import numpy


@functools.lru_cache(maxsize=8)
def _transitions(labels: tuple[str, ...]) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Log-transition matrix (0 allowed, -inf forbidden) and start vector for BIO labels."""
    n = len(labels)
    trans = numpy.zeros((n, n), dtype="float32")
    start = numpy.zeros(n, dtype="float32")
    for j, cur in enumerate(labels):
        if cur.startswith("I-"):
            start[j] = -numpy.inf
            for i, prev in enumerate(labels):
                if prev == "O" or prev[2:] != cur[2:]:
                    trans[i, j] = -numpy.inf
    return trans, start


def viterbi(scores: numpy.ndarray, labels: tuple[str, ...]) -> numpy.ndarray:
    """The best BIO-valid label sequence under the tagger's per-token probabilities."""
    trans, start = _transitions(labels)
    logp = numpy.log(numpy.clip(scores, 1e-9, 1.0)).astype("float32")
    best = logp.argmax(axis=1)
    # Already valid (the common case): no dynamic programme needed.
    prev = numpy.concatenate(([-1], best[:-1]))
    ok = numpy.where(prev < 0, start[best], trans[numpy.maximum(prev, 0), best])
    if numpy.isfinite(ok).all():
        return best
    n = len(logp)
    back = numpy.zeros((n, len(labels)), dtype="int64")
    score = logp[0] + start
    for i in range(1, n):
        cand = score[:, None] + trans
        back[i] = cand.argmax(axis=0)
        score = cand.max(axis=0) + logp[i]
    path = numpy.zeros(n, dtype="int64")
    path[-1] = int(score.argmax())
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path
