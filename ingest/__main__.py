"""The index and the knowledge base from the command line.

    python -m ingest [--corpus DIR] [--index DIR] [--force]   build (or confirm) the index
    python -m ingest add FILE… [--metadata JSON]              add documents (.txt .md .html .pdf .docx)
    python -m ingest replace DOC_ID FILE [--metadata JSON]    replace a document's content
    python -m ingest remove DOC_ID…                            remove documents
    python -m ingest list [--json]                            documents, origin, status, version

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

COMMANDS = ("add", "replace", "remove", "list")


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


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        return kb_main(argv[0], argv[1:])
    return build_main(argv)


if __name__ == "__main__":
    sys.exit(main())
