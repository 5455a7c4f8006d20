"""The knowledge-gap report: what people asked that the knowledge base could not answer, grouped.

Questions that got ``no_answer`` or ``partial`` and answers rated 👎 are embedded with the index's own
model and grouped by agglomerative clustering (scikit-learn, cosine distance, average linkage): each
group is one missing topic, with its count, example questions, dates and statuses, the most frequent
first. A maintainer reads it to decide which document or FAQ pair to add next.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np

from .conversations import ConversationStore, GapItem

# Average-linkage cosine distance that still joins two groups (m3e-small). Ways of asking about one
# missing topic ("异地就医备案怎么办" / "去外地看病要先备案吗" / "在外省住院医保怎么备案") sit 0.08–0.12 apart,
# different topics ("医保卡丢了怎么补办" / "门诊慢特病怎么申请" / "异地就医备案") 0.19–0.31; on the public
# insurance_faq set 0.15 joins every test question to its pair's question (median 0.044). The model
# compresses short 医保 questions, so some different topics sit closer ("医保卡丢了怎么补办" /
# "医保断缴3个月怎么补": 0.10) and share a cluster: the report is a reading aid, not a taxonomy.
CLUSTER_DISTANCE = 0.15
EXAMPLES = 5


@dataclass(frozen=True)
class Cluster:
    label: str  # the question closest to the cluster's centre
    count: int
    examples: tuple[str, ...]
    first_seen: str
    last_seen: str
    statuses: dict[str, int]
    rated_down: int
    answer_ids: tuple[str, ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class InsightsReport:
    clusters: tuple[Cluster, ...]
    volume_by_day: tuple[tuple[str, int], ...]
    items: tuple[GapItem, ...]
    assignment: tuple[int, ...]  # cluster number of each item

    def to_dict(self) -> dict[str, Any]:
        return {"clusters": [{"label": c.label, "count": c.count, "examples": list(c.examples),
                              "first_seen": c.first_seen, "last_seen": c.last_seen, "statuses": c.statuses,
                              "rated_down": c.rated_down} for c in self.clusters],
                "volume_by_day": [{"day": d, "questions": n} for d, n in self.volume_by_day],
                "gaps": len(self.items)}

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["cluster", "cluster_label", "created", "status", "rating", "question", "understood_as",
                    "comment"])
        for item, k in zip(self.items, self.assignment):
            w.writerow([k + 1, _safe(self.clusters[k].label), item.created, item.status, item.rating or "",
                        _safe(item.question), _safe(item.understood_as), _safe(item.comment or "")])
        return buf.getvalue()


def _safe(text: str) -> str:
    """No spreadsheet formula injection: a cell starting with = + - @ is read as text."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


def cluster(vectors: np.ndarray, distance: float = CLUSTER_DISTANCE) -> np.ndarray:
    """Cluster numbers, one per row of ``vectors`` (normalised)."""
    n = len(vectors)
    if n == 0:
        return np.zeros(0, dtype=int)
    if n == 1:
        return np.zeros(1, dtype=int)
    from sklearn.cluster import AgglomerativeClustering

    model = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                    distance_threshold=distance)
    return model.fit_predict(vectors)


def gap_report(store: ConversationStore, embed: Callable[[list[str]], np.ndarray], *,
               since: date | datetime | None = None, until: date | datetime | None = None,
               distance: float = CLUSTER_DISTANCE) -> InsightsReport:
    items = tuple(store.gaps(since, until))
    texts = [i.understood_as or i.question for i in items]
    vectors = embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    labels = cluster(np.asarray(vectors), distance)
    groups: dict[int, list[int]] = {}
    for idx, k in enumerate(labels):
        groups.setdefault(int(k), []).append(idx)
    clusters: list[tuple[list[int], Cluster]] = []
    for members in groups.values():
        vecs = np.asarray(vectors)[members]
        centre = vecs.mean(axis=0)
        best = members[int(np.argmax(vecs @ centre))]
        created = sorted(items[i].created for i in members)
        clusters.append((members, Cluster(
            label=texts[best], count=len(members),
            examples=tuple(dict.fromkeys(items[i].question for i in members))[:EXAMPLES],
            first_seen=created[0], last_seen=created[-1],
            statuses=dict(Counter(items[i].status for i in members)),
            rated_down=sum(1 for i in members if items[i].rating == "down"),
            answer_ids=tuple(items[i].answer_id for i in members))))
    clusters.sort(key=lambda mc: (-mc[1].count, mc[1].label))
    assignment = [0] * len(items)
    for number, (members, _) in enumerate(clusters):
        for i in members:
            assignment[i] = number
    since_day = since.date() if isinstance(since, datetime) else since
    return InsightsReport(tuple(c for _, c in clusters), tuple(store.volume_by_day(since_day)), items,
                          tuple(assignment))
