"""Recommendations: a small hybrid of item-item co-watch similarity (from progress history)
and content similarity (genre + tags), with popularity for users without history."""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

# Co-watch evidence is stronger than shared tags when it exists; tags carry cold items.
COWATCH_WEIGHT = 0.6
CONTENT_WEIGHT = 0.4


@dataclass(frozen=True)
class Item:
    video_id: str
    title: str
    genre: str
    tags: frozenset[str]

    @property
    def features(self) -> frozenset[str]:
        return self.tags | ({f"genre:{self.genre}"} if self.genre else set())


@dataclass
class Recommendation:
    video_id: str
    title: str
    score: float
    reasons: list[str] = field(default_factory=list)


def recommend(
    user_id: int, items: list[Item], history: dict[int, set[str]], limit: int = 10
) -> list[Recommendation]:
    """history: user id → videos that user has progress on (any offset)."""
    by_id = {it.video_id: it for it in items}
    watched = history.get(user_id, set()) & by_id.keys()
    watchers: dict[str, set[int]] = defaultdict(set)
    for uid, vids in history.items():
        for vid in vids:
            watchers[vid].add(uid)
    candidates = [it for it in items if it.video_id not in watched]
    if not watched:
        # Cold start: most-watched first, then title for a stable order.
        ranked = sorted(candidates, key=lambda it: (-len(watchers.get(it.video_id, ())), it.title))
        return [
            Recommendation(
                it.video_id,
                it.title,
                float(n := len(watchers.get(it.video_id, ()))),
                [f"popular: {n} viewers" if n else "new in the catalog"],
            )
            for it in ranked[:limit]
        ]
    profile: set[str] = set().union(*(by_id[v].features for v in watched))
    out = []
    for it in candidates:
        # Cosine similarity between item watcher sets, best match over what the user watched.
        best_co, best_src = 0.0, ""
        for src in watched:
            a, b = watchers.get(it.video_id, set()), watchers.get(src, set())
            if a and b:
                sim = len(a & b) / math.sqrt(len(a) * len(b))
                if sim > best_co:
                    best_co, best_src = sim, src
        shared = it.features & profile
        content = len(shared) / len(it.features | profile) if it.features | profile else 0.0
        score = COWATCH_WEIGHT * best_co + CONTENT_WEIGHT * content
        reasons = []
        if best_co > 0:
            reasons.append(f"watched by people who watched {by_id[best_src].title}")
        if shared:
            reasons.append(
                "similar: " + ", ".join(sorted(s.removeprefix("genre:") for s in shared))
            )
        out.append(Recommendation(it.video_id, it.title, round(score, 4), reasons))
    out.sort(key=lambda r: (-r.score, r.title))
    return out[:limit]
