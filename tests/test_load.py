"""A short version of ``python -m eval.load`` against a real ``python -m api`` on 127.0.0.1.

8 clients × 5 s × 2 rounds of mixed ask/search/calculate (and deliberately bad) requests, with half the clients
also holding conversations (follow-ups sent with the returned conversation_id) and rating answers: zero errors,
RSS of the server flat across rounds, the turns and ratings really stored in the server's conversation store.
The server runs with question storage switched on and debug logging, so
the same run checks that an ID card and a mobile number typed into a question reach neither its log nor the
questions file in clear.
"""

from __future__ import annotations

import json
import os
import sqlite3
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
                "YIBAO_STORE_QUESTIONS": "true", "YIBAO_QUESTIONS_LOG": str(folder / "questions.jsonl"),
                "YIBAO_CONVERSATIONS_DB": str(folder / "conversations.sqlite")})
    log_path = folder / "server.log"
    proc, url = load.start_server(log_path, env=env, log_level="debug")
    try:
        yield {"proc": proc, "url": url, "log": log_path, "questions": folder / "questions.jsonl", "dir": folder,
               "db": folder / "conversations.sqlite"}
    finally:
        load.stop_server(proc)


def test_load_zero_errors_and_flat_memory(server) -> None:
    summary = load.run(server["url"], clients=CLIENTS, seconds=SECONDS, rounds=ROUNDS, pid=server["proc"].pid,
                       log=lambda *_: None)
    rounds = summary["rounds"]
    assert [r["errors"] for r in rounds] == [0] * ROUNDS, [r["first_errors"] for r in rounds]
    assert all(r["requests"] >= CLIENTS for r in rounds), rounds  # every client got through, repeatedly
    kinds = {k for r in rounds for k, v in r["by_kind"].items() if v["requests"]}
    assert kinds == {"ask", "search", "calculate", "bad", "turn", "followup", "feedback"}
    assert all(r["rss_mb_end"] for r in rounds)
    assert summary["total"]["rss_growth_mb"] <= summary["config"]["max_growth_mb"], rounds
    assert summary["ok"]
    total = summary["total"]
    assert total["conversations_started"] > 0 and total["followups"] > 0 and total["feedback"] > 0, total
    assert total["conversation_turns"] == total["conversations_started"] + total["followups"]
    # what the clients were told was stored is in the server's store: follow-ups as later turns, every rating
    with sqlite3.connect(server["db"]) as db:
        later_turns = db.execute("SELECT count(*) FROM turns WHERE turn > 1").fetchone()[0]
        ratings = dict(db.execute("SELECT rating, count(*) FROM feedback GROUP BY rating").fetchall())
        comments = db.execute("SELECT count(*) FROM feedback WHERE comment IS NOT NULL").fetchone()[0]
    assert later_turns >= total["followups"]
    assert sum(ratings.values()) >= total["feedback"] and set(ratings) == {"up", "down"} and comments > 0
    folder = load.write_report(summary, server["dir"] / "report")
    assert json.loads((folder / "summary.json").read_text(encoding="utf-8"))["total"]["errors"] == 0
    md = (folder / "summary.md").read_text(encoding="utf-8")
    assert "| round | requests | errors |" in md and "**Conversations:**" in md


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
