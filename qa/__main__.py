"""`python -m qa "问题"` — answer one question (or several, one per line on stdin) with sources."""

from __future__ import annotations

import argparse
import sys

from ingest.settings import get_settings

from .models import Answer
from .normalize import QuestionError
from .service import IndexNotReady, QAService


def render(ans: Answer) -> str:
    lines = [ans.answer]
    if ans.calculation is not None:
        c = ans.calculation
        lines.append(f"\n计算 [{c.kind}]: {c.formula}")
        if c.result is not None:
            lines.append(f"结果: {c.result} {c.unit}")
        for a in c.assumptions:
            lines.append(f"  假设: {a}")
    if ans.citations:
        lines.append("\n来源:")
        for cit in ans.citations:
            where = "、".join(cit.region) or "—"
            lines.append(f"[{cit.n}] {cit.title}({where}{',' + cit.date if cit.date else ''})"
                         f" {cit.doc_id} {cit.start}-{cit.end}")
            for s, e in cit.highlights:
                rel_s, rel_e = s - cit.start, e - cit.start
                lines.append(f"    “{cit.text[rel_s:rel_e]}”")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m qa", description="Ask yibao-qa a question.")
    parser.add_argument("question", nargs="*", help="the question; omit to read one question per line from stdin")
    parser.add_argument("--json", action="store_true", help="print the answer object as JSON")
    parser.add_argument("--top-k", type=int, default=5)
    args = parser.parse_args(argv)
    try:
        svc = QAService.load(get_settings())
    except IndexNotReady as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.question:
        questions = [" ".join(args.question)]
    else:
        questions = [ln for ln in sys.stdin.read().splitlines() if ln.strip()]
    status = 0
    for q in questions:
        try:
            ans = svc.ask(q, top_k=args.top_k)
        except QuestionError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 1
            continue
        print(ans.model_dump_json(indent=2) if args.json else render(ans))
        if len(questions) > 1:
            print("\n" + "—" * 40)
    return status


if __name__ == "__main__":
    sys.exit(main())
