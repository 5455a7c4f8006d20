"""`python -m ingest [--corpus DIR] [--index DIR] [--force]`: build the search index."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from .build import build_index
from .corpus import CorpusError
from .embed import ModelError
from .settings import get_settings


def main(argv: list[str] | None = None) -> int:
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Build the yibao-qa search index.")
    parser.add_argument("--corpus", type=Path, default=settings.corpus_dir, help="corpus folder (default: %(default)s)")
    parser.add_argument("--index", type=Path, default=settings.index_dir, help="index folder (default: %(default)s)")
    parser.add_argument("--force", action="store_true", help="rebuild even if the index is up to date")
    parser.add_argument("--no-cache", action="store_true", help="ignore the embedding cache")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    try:
        report = build_index(args.corpus, args.index, settings=settings, force=args.force,
                             progress=not args.quiet, use_cache=not args.no_cache)
    except CorpusError as exc:
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


if __name__ == "__main__":
    sys.exit(main())
