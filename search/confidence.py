"""Is anything in the index a good match for this query? A per-query signal, not only a fixed cutoff.

A query has no good match when no photo contains all its words (no lexical evidence) and its best cosine is
weak, either absolutely or relative to that query's own score distribution:

    best < CEILING  and  (best < FLOOR  or  z < MIN_Z  or  gap < MIN_GAP)

- z: how many standard deviations the best cosine stands above the query's other candidates; an answer
  stands out from the crowd, a query about nothing in the library lifts everything a little and nothing much;
- gap: how far the best is ahead of the second best.

Measured on shared/eval plus 20 off-topic queries (data/eval/offtopic.jsonl); see README. With fewer than
MIN_CANDIDATES photos the distribution means little, and only the absolute floor applies.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOOR = 0.30  # below this cosine nothing is a good match
CEILING = 0.45  # at or above this cosine something is
MIN_Z = 3.0
MIN_GAP = 0.03
MIN_CANDIDATES = 10
DISTRIBUTION = 50  # the query's best candidates that make up its distribution


def no_good_match(semantic: Sequence[float], lexical_match: bool) -> bool:
    """`semantic`: cosines of the query's candidates (any order); `lexical_match`: some photo has all its words."""
    if lexical_match:
        return False
    if not len(semantic):
        return True
    scores = np.sort(np.asarray(semantic, dtype=np.float64))[::-1][:DISTRIBUTION]
    best = scores[0]
    if best >= CEILING:
        return False
    if best < FLOOR:
        return True
    if len(scores) < MIN_CANDIDATES:
        return False
    rest = scores[1:]
    z = (best - rest.mean()) / (rest.std() + 1e-9)
    return bool(z < MIN_Z or best - scores[1] < MIN_GAP)
