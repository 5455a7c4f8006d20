"""Two worker processes of `python -m api`: a change published through one is seen by both at once."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ingest.build import build_index
from ingest.settings import Settings
from tests.test_kb import LANZHOU

pytestmark = pytest.mark.slow

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
TOKEN = "workers-token"
QUESTION = "兰州的居民医保断缴了怎么补缴?"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, test_settings: Settings, embedder):
    base = tmp_path_factory.mktemp("workers")
    s = test_settings.model_copy(update={"index_dir": base / "index", "kb_dir": base / "kb"})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    port = _free_port()
    env = {**os.environ, "YIBAO_INDEX_DIR": str(s.index_dir), "YIBAO_KB_DIR": str(s.kb_dir),
           "YIBAO_CACHE_DIR": str(s.cache_dir), "YIBAO_ADMIN_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "api", "--workers", "2", "--port", str(port), "--no-build",
                             "--log-level", "warning"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 240
    pids: set[int] = set()
    try:
        while time.time() < deadline and len(pids) < 2:
            try:
                pids.add(httpx.get(f"{url}/api/health", timeout=5).json()["worker"])
            except (httpx.HTTPError, KeyError, ValueError):
                time.sleep(0.5)
        assert len(pids) == 2, "both workers should answer"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _ask_on_each_worker(url: str, rounds: int = 30) -> dict[int, list[list[str]]]:
    """Ask on fresh connections until both workers answered; per worker pid, the cited doc ids."""
    seen: dict[int, list[list[str]]] = {}
    for _ in range(rounds):
        with httpx.Client(base_url=url, timeout=60) as c:  # one connection: health and ask reach one worker
            pid = c.get("/api/health").json()["worker"]
            cited = [x["doc_id"] for x in c.post("/api/ask", json={"question": QUESTION}).json()["citations"]]
            seen.setdefault(pid, []).append(cited)
        if len(seen) == 2 and all(len(v) >= 3 for v in seen.values()):
            break
    return seen


def test_upload_then_delete_is_seen_by_every_worker(server):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    r = httpx.post(f"{server}/api/documents", files={"file": ("lanzhou.txt", LANZHOU)}, headers=headers, timeout=120)
    assert r.status_code == 201, r.text
    doc_id = r.json()["doc_id"]
    after_add = _ask_on_each_worker(server)
    assert len(after_add) == 2
    assert all(cited and cited[0] == doc_id for answers in after_add.values() for cited in answers)

    d = httpx.delete(f"{server}/api/documents/{doc_id}", headers=headers, timeout=120)
    assert d.status_code == 200
    after_delete = _ask_on_each_worker(server)
    assert len(after_delete) == 2
    assert all(doc_id not in cited for answers in after_delete.values() for cited in answers)
    assert all(httpx.get(f"{server}/api/documents/{doc_id}").status_code == 404 for _ in range(6))
