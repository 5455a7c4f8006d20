"""`python -m eval insights` — the knowledge-gap report from the command line.

The same report as ``/kb/insights`` (``qa.insights.gap_report``): questions that got ``no_answer`` or
``partial`` and answers rated 👎, grouped by similarity, most frequent first, with volume per day. It reads
the conversation store (``YIBAO_CONVERSATIONS_DB`` or ``--db``) and writes ``report.md``, ``report.json``
and ``gaps.csv`` under ``var/reports/``.
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, timedelta
from pathlib import Path

from ingest.settings import get_settings


def main(argv: list[str] | None = None) -> int:
    from ingest.embed import Embedder, ModelError
    from qa.conversations import ConversationStore, ConversationStoreError
    from qa.insights import CLUSTER_DISTANCE, gap_report

    from . import report

    parser = argparse.ArgumentParser(prog="python -m eval insights", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="conversation store (default: YIBAO_CONVERSATIONS_DB)")
    parser.add_argument("--days", type=int, default=30, help="the last N days (default 30; 0 = everything)")
    parser.add_argument("--distance", type=float, default=CLUSTER_DISTANCE,
                        help=f"cosine distance that still joins two questions (default {CLUSTER_DISTANCE})")
    parser.add_argument("--top", type=int, default=20, help="clusters printed (all are in the report)")
    args = parser.parse_args(argv)
    if args.days < 0:
        parser.error("--days must be ≥ 0")
    if not 0 < args.distance < 2:
        parser.error("--distance must be between 0 and 2")
    settings = get_settings()
    db = args.db or settings.conversations_db
    if db is None or not Path(db).is_file():
        print(f"error: no conversation store at {db} (set YIBAO_CONVERSATIONS_DB or pass --db)", file=sys.stderr)
        return 1
    since = date.today() - timedelta(days=args.days - 1) if args.days else None
    try:
        embedder = Embedder(settings)
        with ConversationStore(db) as store:
            result = gap_report(store, embedder.encode, since=since, distance=args.distance)
    except (ConversationStoreError, ModelError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    folder = report.report_dir("insights")
    (folder / "gaps.csv").write_text(result.to_csv(), encoding="utf-8-sig")  # BOM: Excel reads it as UTF-8
    window = f"the last {args.days} days" if args.days else "all time"
    rows = [{"cluster": i + 1, "count": c.count, "label": c.label, "rated_down": c.rated_down,
             "statuses": ", ".join(f"{k} {v}" for k, v in sorted(c.statuses.items())),
             "first_seen": c.first_seen[:10], "last_seen": c.last_seen[:10]}
            for i, c in enumerate(result.clusters)]
    columns = ["cluster", "count", "label", "rated_down", "statuses", "first_seen", "last_seen"]
    md = [f"# Knowledge gaps — {window}\n\n",
          f"{len(result.items)} questions not (fully) answered or rated down, in {len(result.clusters)} clusters "
          f"(cosine distance ≤ {args.distance}). Store: `{db}`.\n\n",
          report.table(rows, columns) if rows else "No gaps.\n", "\n## Examples\n"]
    for i, c in enumerate(result.clusters):
        md.append(f"\n**{i + 1}. {c.label}** ({c.count})\n\n" + "".join(f"- {e}\n" for e in c.examples))
    md += ["\n## Questions per day\n\n",
           report.table([{"day": d, "questions": n} for d, n in result.volume_by_day], ["day", "questions"])
           if result.volume_by_day else "None.\n"]
    report.write(folder, "".join(md), result.to_dict())
    print(f"{len(result.items)} gaps in {len(result.clusters)} clusters ({window})")
    if rows:
        print(report.table(rows[: args.top], columns))
    print(f"report: {folder}/report.md; CSV: {folder}/gaps.csv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
