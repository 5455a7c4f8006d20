"""The index and the knowledge base from the command line.

    python -m ingest [--corpus DIR] [--index DIR] [--force]   build (or confirm) the index
    python -m ingest add FILE… [--metadata JSON]              add documents (.txt .md .html .pdf .docx)
    python -m ingest replace DOC_ID FILE [--metadata JSON]    replace a document's content
    python -m ingest remove DOC_ID…                            remove documents
    python -m ingest list [--json]                            documents, origin, status, version
    python -m ingest faq FILE [--skip-bad]                    import a FAQ list (.csv .tsv .xlsx .jsonl)
    python -m ingest faq-similar PAIR_ID QUESTION             add a way of asking an existing pair
    python -m ingest faq-remove PAIR_ID…                      remove FAQ pairs
    python -m ingest faq-list [--json]                        the FAQ pairs

A running ``python -m api`` answers from a change as soon as it is published (no restart).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from .build import build_index
from .corpus import CorpusError
from .embed import ModelError
from .settings import get_settings

COMMANDS = ("add", "replace", "remove", "list", "faq", "faq-similar", "faq-remove", "faq-list")


def build_main(argv: list[str]) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Build the yibao-qa search index.",
                                     epilog="Knowledge-base commands: " + ", ".join(COMMANDS) +
                                     " (python -m ingest add --help).")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir, help="corpus folder (default: %(default)s)")
    parser.add_argument("--index", type=Path, default=settings.index_dir, help="index folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    parser.add_argument("--no-cache", action="store_true", help="ignore the embedding cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from .parse import UploadError

    try:
        report = build_index(args.corpus, args.index, settings=settings, force=args.force,
                             progress=not args.quiet, use_cache=not args.no_cache)
    except (CorpusError, UploadError) as exc:
        print(f"error: {exc}\nThe previous index (if any) was left unchanged.", file=sys.stderr)
        return 1
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in report.rule_problems:
        print(f"warning: {args.corpus / 'rules.toml'}: {line}", file=sys.stderr)
    if report.skipped:
        print(f"index up to date: {report.documents} documents, {report.chunks} chunks in {report.index_dir}")
    else:
        print(f"built index: {report.documents} documents, {report.chunks} chunks "
              f"({report.embedded} embedded, {report.chunks - report.embedded} from cache) "
              f"in {report.seconds:.1f}s → {report.index_dir}")
    return 0


def _metadata(text: str | None) -> dict:
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("--metadata must be a JSON object")
    return value


def kb_main(command: str, argv: list[str]) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog=f"python -m ingest {command}")
    if command == "add":
        parser.add_argument("files", nargs="+", type=Path)
        parser.add_argument("--metadata", help="JSON object: title, regions, date, effective_from, expires, "
                                               "insurance_types, publisher, source_url (given values win)")
    elif command == "replace":
        parser.add_argument("doc_id")
        parser.add_argument("file", type=Path)
        parser.add_argument("--metadata")
    elif command == "remove":
        parser.add_argument("doc_ids", nargs="+")
    else:
        parser.add_argument("--json", action="store_true", help="print the list as JSON")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from .embed import Embedder
    from .kb import KnowledgeBase, KnowledgeError
    from .parse import UploadError

    if command == "list":
        from .kb import LocalKnowledgeStore

        listing = KnowledgeBase(settings, embedder=None, kb_store=LocalKnowledgeStore(settings)).documents()
        if args.json:
            print(json.dumps(listing, ensure_ascii=False, indent=1))
            return 0
        print(f"knowledge base version {listing['version']}: {len(listing['documents'])} documents")
        for d in listing["documents"]:
            regions = "、".join(d["metadata"].get("regions", [])) or "—"
            print(f"  {d['doc_id']:24s} {d['origin']:7s} {d['status']:8s} {d.get('chunks') or 0:4d} chunks  "
                  f"{regions:10s} {d['title']}")
        return 0
    try:
        metadata = _metadata(getattr(args, "metadata", None))
    except ValueError as exc:
        print(f"error: --metadata: {exc}", file=sys.stderr)
        return 1
    try:
        kb = KnowledgeBase(settings, Embedder(settings))
        if command == "add":
            for path in args.files:
                r = kb.add(path.name, path.read_bytes(), metadata)
                verb = "added" if r.created else "already present"
                print(f"{verb}: {r.doc_id} {r.title!r}, {r.chunks} chunks ({r.embedded} embedded), version {r.version}")
        elif command == "replace":
            r = kb.replace(args.doc_id, args.file.name, args.file.read_bytes(), metadata)
            print(f"replaced: {r.doc_id} {r.title!r}, {r.chunks} chunks, version {r.version}")
        else:
            for doc_id in args.doc_ids:
                r = kb.remove(doc_id)
                print(f"removed: {r.doc_id} {r.title!r}, version {r.version}")
    except (UploadError, KnowledgeError) as exc:
        print(f"error: {exc.message_en} / {exc.message_zh}\nNothing was changed.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}\nNothing was changed.", file=sys.stderr)
        return 1
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def faq_main(command: str, argv: list[str]) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog=f"python -m ingest {command}")
    if command == "faq":
        parser.add_argument("file", type=Path, help="CSV/TSV/XLSX/JSONL with question, answer, similar_questions "
                                                    "(| separated), region, source")
        parser.add_argument("--skip-bad", action="store_true", help="import the good rows of a file with bad rows")
    elif command == "faq-similar":
        parser.add_argument("pair_id")
        parser.add_argument("question")
    elif command == "faq-remove":
        parser.add_argument("pair_ids", nargs="+")
    else:
        parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from .embed import Embedder
    from .faq import FAQFileError
    from .kb import KnowledgeBase, KnowledgeError

    if command == "faq-list":
        pairs = KnowledgeBase(settings, embedder=None).faq_pairs()
        if args.json:
            print(json.dumps([{"pair_id": k, **v} for k, v in sorted(pairs.items())], ensure_ascii=False, indent=1))
        else:
            print(f"{len(pairs)} FAQ pairs")
            for pid, p in sorted(pairs.items()):
                print(f"  {pid}  {p['question']}  (+{len(p.get('similar_questions', []))} similar)")
        return 0
    try:
        kb = KnowledgeBase(settings, Embedder(settings))
        if command == "faq":
            change = kb.import_faq(args.file.name, args.file.read_bytes(), skip_bad=args.skip_bad)
            for p in change.problems:
                where = f"line {p['line']}" if p.get("line") else "pair"
                print(f"{args.file.name}: {where}: {p.get('field', '')}: {p['message_en']} / {p['message_zh']}",
                      file=sys.stderr)
            if not change.applied:
                print(f"error: {len(change.problems)} bad rows; nothing was changed (--skip-bad imports the rest)",
                      file=sys.stderr)
                return 1
            print(f"imported: {change.added} added, {change.updated} updated, {change.unchanged} unchanged"
                  f"{f', {len(change.problems)} skipped' if change.problems else ''}; version {change.version}")
        elif command == "faq-similar":
            pair = kb.add_similar(args.pair_id, args.question)
            print(f"added: {args.pair_id} now has {len(pair['similar_questions'])} similar questions; "
                  f"version {pair['version']}")
        else:
            for pid in args.pair_ids:
                print(f"removed: {pid}, version {kb.remove_pair(pid)}")
    except FAQFileError as exc:
        print(f"error: {args.file}: {exc.message_en} / {exc.message_zh}\nNothing was changed.", file=sys.stderr)
        return 1
    except KnowledgeError as exc:
        print(f"error: {exc.message_en} / {exc.message_zh}\nNothing was changed.", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc}\nNothing was changed.", file=sys.stderr)
        return 1
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0].startswith("faq"):
        return faq_main(argv[0], argv[1:])
    if argv and argv[0] in COMMANDS:
        return kb_main(argv[0], argv[1:])
    return build_main(argv)


if __name__ == "__main__":
    sys.exit(main())
