"""A short version of ``python -m eval.load`` against a real ``python -m api`` on 127.0.0.1.

8 clients × 5 s × 2 rounds of mixed ask/search/calculate (and deliberately bad) requests: zero errors, RSS
of the server flat across rounds. The server runs with question storage switched on and debug logging, so
the same run checks that an ID card and a mobile number typed into a question reach neither its log nor the
questions file in clear.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest

from eval import load
from ingest.settings import Settings

pytestmark = pytest.mark.slow

CLIENTS, SECONDS, ROUNDS = 8, 5.0, 2


@pytest.fixture(scope="module")
def server(built_index: Path, test_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("load")
    env = {k: v for k, v in os.environ.items() if not k.startswith("YIBAO_")}
    env.update({"YIBAO_INDEX_DIR": str(built_index), "YIBAO_CACHE_DIR": str(test_settings.cache_dir),
                "YIBAO_STORE_QUESTIONS": "true", "YIBAO_QUESTIONS_LOG": str(folder / "questions.jsonl")})
    log_path = folder / "server.log"
    proc, url = load.start_server(log_path, env=env, log_level="debug")
    try:
        yield {"proc": proc, "url": url, "log": log_path, "questions": folder / "questions.jsonl", "dir": folder}
    finally:
        load.stop_server(proc)


def test_load_zero_errors_and_flat_memory(server) -> None:
    summary = load.run(server["url"], clients=CLIENTS, seconds=SECONDS, rounds=ROUNDS, pid=server["proc"].pid,
                       log=lambda *_: None)
    rounds = summary["rounds"]
    assert [r["errors"] for r in rounds] == [0] * ROUNDS, [r["first_errors"] for r in rounds]
    assert all(r["requests"] >= CLIENTS for r in rounds), rounds  # every client got through, repeatedly
    kinds = {k for r in rounds for k, v in r["by_kind"].items() if v["requests"]}
    assert kinds == {"ask", "search", "calculate", "bad"}
    assert all(r["rss_mb_end"] for r in rounds)
    assert summary["total"]["rss_growth_mb"] <= summary["config"]["max_growth_mb"], rounds
    assert summary["ok"]
    folder = load.write_report(summary, server["dir"] / "report")
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["total"]["errors"] == 0
    assert "| round | requests | errors |" in (folder / "summary.md").read_text(encoding="utf-8")


def test_personal_numbers_never_reach_logs_or_stored_questions(server) -> None:
    url = server["url"]
    calc = {"kind": "monthly_contribution", "params": {"base": "110101199003071234", "rate": "13812345678"}}
    assert httpx.post(f"{url}/api/search", json={"query": load.PII_QUESTION}, timeout=60).status_code == 200
    assert httpx.post(f"{url}/api/ask", json={"question": load.PII_QUESTION, "top_k": 99}, timeout=60).status_code \
        == 422
    httpx.post(f"{url}/api/calculate", json=calc, timeout=60)
    # numbers in a URL path and query (a mistyped link) too: uvicorn's access log must not print them raw
    result = load.pii_check(url, server["log"])
    assert result["status"] == 200 and result["log_bytes"] > 0
    assert result["leaked"] == [], f"raw personal numbers in the server log: {result['leaked']}"
    stored = server["questions"].read_text(encoding="utf-8")
    assert "[身份证号]" in stored and "[手机号]" in stored  # stored because configured, and masked
    for number in load.PII_NUMBERS:
        assert number not in stored


@pytest.mark.parametrize("url", ["http://10.0.0.1:8000", "http://example.com", "http://0.0.0.0:8000"])
def test_load_only_targets_loopback(url: str) -> None:
    with pytest.raises(SystemExit, match="loopback"):
        load.check_loopback(url)
    for ok in ("http://127.0.0.1:8000", "http://localhost:1", "http://[::1]:8000"):
        load.check_loopback(ok)
