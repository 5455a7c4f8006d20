"""The ingest pipeline end to end on the real corpus with the real model."""

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from ingest import store
from ingest.build import build_index
from ingest.corpus import CorpusError
from tests.conftest import CORPUS
from tests.test_clean import BOILERPLATE

pytestmark = pytest.mark.slow


def _jsonl(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_index_files_and_offsets(built_index):
    docs = {d["doc_id"]: d for d in _jsonl(built_index / "documents.jsonl")}
    chunks = _jsonl(built_index / "chunks.jsonl")
    assert len(docs) == 5 and len(chunks) >= 25
    for c in chunks:
        assert docs[c["doc_id"]]["text"][c["start"] : c["end"]] == c["text"]
        assert set(c) >= {"chunk_id", "doc_id", "title", "heading_path", "text", "start", "end"}
        for word in BOILERPLATE:
            assert word not in c["text"], (word, c["chunk_id"])
    manifest = json.loads((built_index / "manifest.json").read_text())
    assert manifest["model"] == "m3e-small" and manifest["dim"] == 512 and manifest["chunks"] == len(chunks)
    data = store.load_index(built_index)
    assert data.dense.ntotal == len(chunks)
    norms = np.linalg.norm(np.load(built_index / "embeddings.npy"), axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)


def test_rebuild_of_unchanged_corpus_changes_nothing(built_index, test_settings, embedder):
    before = built_index.resolve()
    manifest = json.loads((built_index / "manifest.json").read_text())
    report = build_index(CORPUS, built_index, settings=test_settings, embedder=embedder, progress=False)
    assert report.skipped and report.index_hash == manifest["index_hash"]
    assert built_index.resolve() == before

    forced = build_index(CORPUS, built_index, settings=test_settings, embedder=embedder, progress=False, force=True)
    assert not forced.skipped and forced.embedded == 0  # every vector came from the cache
    assert built_index.resolve() != before
    assert (built_index / "chunks.jsonl").read_bytes() == (before / "chunks.jsonl").read_bytes()
    assert np.array_equal(np.load(built_index / "embeddings.npy"), np.load(before / "embeddings.npy"))
    assert json.loads((built_index / "manifest.json").read_text())["index_hash"] == manifest["index_hash"]


def test_bad_file_keeps_previous_index(built_index, test_settings, embedder, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    (corpus / "raw" / "zzz_bad.txt").write_bytes(b"\xff\xfe broken \x81")
    before = built_index.resolve()
    with pytest.raises(CorpusError, match="zzz_bad.txt"):
        build_index(corpus, built_index, settings=test_settings, embedder=embedder, progress=False, force=True)
    assert built_index.resolve() == before
    assert store.load_index(built_index).dense.ntotal > 0


def test_cli_reports_bad_file_and_exits_nonzero(tmp_path):
    (tmp_path / "ok.txt").write_text("标题\n\n正文。", encoding="utf-8")
    (tmp_path / "broken.jsonl").write_text("{oops\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "ingest", "--corpus", str(tmp_path), "--index", str(tmp_path / "idx"), "-q"],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 1
    assert "broken.jsonl:1" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "idx").exists()


@pytest.mark.parametrize("files", [None, {}, [], "documents.jsonl"], ids=["absent", "empty", "list", "string"])
def test_manifest_without_checksums_is_refused(built_index, tmp_path, files):
    """publish() always writes the checksum list; without it nothing would be verified, so loading refuses."""
    copy = tmp_path / "copy"
    shutil.copytree(built_index.resolve(), copy)
    assert store.load_index(copy).chunks  # the intact copy loads
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["files"] and "documents.jsonl" in manifest["files"]
    if files is None:
        del manifest["files"]
    else:
        manifest["files"] = files
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(store.IndexLoadError) as info:
        store.load_index(copy)
    assert info.value.path == str(copy / "manifest.json")
    assert '"files" checksum list' in str(info.value) and "python -m ingest" in str(info.value)


def test_manifest_that_is_not_an_object_is_refused(built_index, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built_index.resolve(), copy)
    (copy / "manifest.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(store.IndexLoadError, match="manifest.json: manifest is not a JSON object"):
        store.load_index(copy)


def test_corrupt_index_file_is_named(built_index, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(built_index.resolve(), copy)
    with open(copy / "dense.faiss", "r+b") as f:
        f.truncate(100)
    with pytest.raises(store.IndexLoadError, match="dense.faiss"):
        store.load_index(copy)
    shutil.copytree(built_index.resolve(), tmp_path / "copy2")
    (tmp_path / "copy2" / "manifest.json").unlink()
    with pytest.raises(store.IndexLoadError, match="manifest"):
        store.load_index(tmp_path / "copy2")
