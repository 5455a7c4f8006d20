"""Conversations over HTTP: /api/ask with a conversation_id, feedback, delete, the admin transcript and the
knowledge-gap report, on the real QA service with a real SQLite conversation store (one file per test).

The session's ``qa_service`` is shared: the app's start-up attaches a store to it only when it has none, so
``serving`` detaches any store another test left, attaches this test's own, and restores the old one after.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest.settings import Settings
from qa.conversation import TurnState
from qa.privacy import PHONE_MASK

pytestmark = pytest.mark.slow

TOKEN = "conversations-admin-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
ID = re.compile(r"[A-Za-z0-9_-]{24}")
UNKNOWN_ID = "Zz0_-Zz0_-Zz0_-Zz0_-Zz0_"  # well-formed, never issued
PHONE = "13912345678"

WAIT_RESIDENT = f"居民医保断了5个月 补交以后要等多久才能报销 有问题打我电话{PHONE}"
MONTHLY = "我是灵活就业 缴费基数按4000算 费率5% 一个月要交多少钱"
# In-domain questions the corpus cannot answer (no_answer): one missing topic, asked several ways …
FILING = ["去外地看病之前要怎么办异地就医备案", "异地就医备案在哪里办理", "办异地就医备案要去哪个窗口",
          "跨省看病前得先备案吗 怎么备"]
# … and another one.
CHRONIC = "门诊慢特病认定需要哪些材料"


@contextmanager
def serving(service, settings: Settings) -> Iterator[TestClient]:
    previous = service.conversations
    service.conversations = None
    try:
        with TestClient(create_app(settings, service)) as client:
            yield client
    finally:
        store = service.conversations
        if store is not None and store is not previous:
            store.close()
        service.conversations = previous


@pytest.fixture()
def settings(tmp_path: Path, test_settings: Settings) -> Settings:
    return test_settings.model_copy(update={"conversations_db": tmp_path / "conversations.sqlite",
                                            "admin_token": TOKEN})


@pytest.fixture()
def client(qa_service, settings: Settings) -> Iterator[TestClient]:
    with serving(qa_service, settings) as c:
        yield c


def ask(client: TestClient, question: str, conversation_id: str | None = None) -> dict:
    body = {"question": question}
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    r = client.post("/api/ask", json=body)
    assert r.status_code == 200, r.text
    return r.json()


def assert_error(response, status: int, error: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error, body
    assert body["message"] == f"{body['message_zh']} / {body['message_en']}"
    if field is not None:
        assert body["detail"] and body["detail"][0]["field"] == field, body
    return body


def rows(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


# --- asking in a conversation --------------------------------------------------------------------------

def test_followup_in_a_conversation_is_resolved_and_stored_masked(client: TestClient, settings: Settings) -> None:
    a1 = ask(client, WAIT_RESIDENT)
    cid = a1["conversation_id"]
    assert ID.fullmatch(cid) and ID.fullmatch(a1["answer_id"])
    assert a1["status"] == "answered" and a1["inherited"] == []

    a2 = ask(client, "职工医保呢", cid)
    assert a2["conversation_id"] == cid
    assert ID.fullmatch(a2["answer_id"]) and a2["answer_id"] != a1["answer_id"]
    assert a2["inherited"] and "subject" in a2["inherited"]
    assert "职工医保" in a2["understood_as"] and "5个月" in a2["understood_as"]
    assert a2["calculation"]["inputs"]["insurance_type"] == "employee"

    db = settings.conversations_db
    stored = rows(db, "SELECT turn, answer_id, question, understood_as, status, state FROM turns "
                      "WHERE conversation_id = ? ORDER BY turn", cid)
    assert [(t, a) for t, a, *_ in stored] == [(1, a1["answer_id"]), (2, a2["answer_id"])]
    assert stored[0][2] == WAIT_RESIDENT.replace(PHONE, PHONE_MASK)  # the phone number is masked
    assert stored[1][2] == "职工医保呢" and stored[1][3] == a2["understood_as"] and stored[1][4] == "answered"
    state = TurnState.from_json(json.loads(stored[1][5]))
    assert state is not None and state.insurance_type == "职工医保" and state.calc_kind == "benefit_dates"
    # Nothing unmasked anywhere in the database files (the WAL included).
    for path in db.parent.glob(db.name + "*"):
        assert PHONE.encode() not in path.read_bytes(), path


def test_conversations_keep_their_own_state(client: TestClient) -> None:
    waiting = ask(client, WAIT_RESIDENT)["conversation_id"]
    monthly = ask(client, MONTHLY)["conversation_id"]
    assert waiting != monthly

    numeric = ask(client, "费率6%呢", monthly)
    assert numeric["inherited"] == ["calculation", "calc:base"]
    assert numeric["calculation"]["inputs"] == {"base": 4000.0, "rate": 0.06}
    assert numeric["calculation"]["result"] == pytest.approx(240.0)

    slot = ask(client, "职工医保呢", waiting)
    assert "5个月" in slot["understood_as"] and "4000" not in slot["understood_as"]


def test_conversation_survives_a_restart(qa_service, settings: Settings) -> None:
    """The state lives in the database, not in the process: a new app on the same file continues."""
    with serving(qa_service, settings) as c:
        cid = ask(c, MONTHLY)["conversation_id"]
    with serving(qa_service, settings) as c:
        answer = ask(c, "hmm what if 6%?", cid)
    assert answer["conversation_id"] == cid
    assert answer["calculation"]["result"] == pytest.approx(240.0)


def test_unknown_conversation_is_404(client: TestClient, settings: Settings) -> None:
    r = client.post("/api/ask", json={"question": "职工医保呢", "conversation_id": UNKNOWN_ID})
    assert_error(r, 404, "unknown_conversation")
    assert rows(settings.conversations_db, "SELECT count(*) FROM turns") == [(0,)]


@pytest.mark.parametrize("conversation_id", ["short", "A" * 23, "A" * 25, "A" * 23 + "!", "A" * 23 + "=",
                                             " " + "A" * 23, 123456789012345678901234])
def test_malformed_conversation_id_is_422(client: TestClient, conversation_id) -> None:
    r = client.post("/api/ask", json={"question": "职工医保呢", "conversation_id": conversation_id})
    assert_error(r, 422, "invalid_request", "conversation_id")


# --- feedback ------------------------------------------------------------------------------------------

def test_feedback_is_stored_and_replaced(client: TestClient, settings: Settings) -> None:
    answer_id = ask(client, MONTHLY)["answer_id"]
    r = client.post("/api/feedback", json={"answer_id": answer_id, "rating": "up"})
    assert r.status_code == 200, r.text
    assert r.json() == {"answer_id": answer_id, "rating": "up", "stored": True}
    db = settings.conversations_db
    assert rows(db, "SELECT rating, comment FROM feedback WHERE answer_id = ?", answer_id) == [("up", None)]

    # A second rating replaces the first; the comment is trimmed and its phone number masked.
    r = client.post("/api/feedback", json={"answer_id": answer_id, "rating": "down",
                                           "comment": f"  算错了 请回电{PHONE}  "})
    assert r.status_code == 200 and r.json()["rating"] == "down"
    assert rows(db, "SELECT rating, comment FROM feedback WHERE answer_id = ?", answer_id) == [
        ("down", f"算错了 请回电{PHONE_MASK}")]


def test_feedback_comment_limit(client: TestClient, settings: Settings) -> None:
    answer_id = ask(client, MONTHLY)["answer_id"]
    longest = "答" * 500
    assert client.post("/api/feedback", json={"answer_id": answer_id, "rating": "down",
                                               "comment": f"  {longest}\n"}).status_code == 200
    assert rows(settings.conversations_db, "SELECT comment FROM feedback") == [(longest,)]
    r = client.post("/api/feedback", json={"answer_id": answer_id, "rating": "down", "comment": longest + "!"})
    assert_error(r, 422, "invalid_request", "comment")
    assert rows(settings.conversations_db, "SELECT comment FROM feedback") == [(longest,)]  # unchanged


@pytest.mark.parametrize("answer_id", [UNKNOWN_ID, "x", "../" + "A" * 21])
def test_feedback_on_unknown_answer_is_404(client: TestClient, answer_id: str) -> None:
    ask(client, MONTHLY)
    r = client.post("/api/feedback", json={"answer_id": answer_id, "rating": "up"})
    assert_error(r, 404, "unknown_answer")


@pytest.mark.parametrize("body, field", [
    ({"rating": "meh"}, "rating"),
    ({"rating": "UP"}, "rating"),
    ({"rating": 1}, "rating"),
    ({"rating": None}, "rating"),
    ({"rating": "up", "comment": 5}, "comment"),
    ({"rating": "up", "stars": 5}, "stars"),
])
def test_bad_feedback_is_422(client: TestClient, settings: Settings, body: dict, field: str) -> None:
    answer_id = ask(client, MONTHLY)["answer_id"]
    r = client.post("/api/feedback", json={"answer_id": answer_id, **body})
    assert_error(r, 422, "invalid_request", field)
    assert rows(settings.conversations_db, "SELECT count(*) FROM feedback") == [(0,)]


def test_feedback_without_answer_id_is_422(client: TestClient) -> None:
    assert_error(client.post("/api/feedback", json={"rating": "up"}), 422, "invalid_request", "answer_id")


# --- deleting and reading a conversation ---------------------------------------------------------------

def test_delete_conversation(client: TestClient, settings: Settings) -> None:
    a1 = ask(client, WAIT_RESIDENT)
    cid = a1["conversation_id"]
    ask(client, "职工医保呢", cid)
    client.post("/api/feedback", json={"answer_id": a1["answer_id"], "rating": "up"})
    other = ask(client, MONTHLY)["conversation_id"]

    r = client.delete(f"/api/conversations/{cid}")
    assert r.status_code == 200 and r.json() == {"conversation_id": cid, "deleted": True}
    db = settings.conversations_db
    assert rows(db, "SELECT count(*) FROM turns WHERE conversation_id = ?", cid) == [(0,)]
    assert rows(db, "SELECT count(*) FROM feedback") == [(0,)]
    assert rows(db, "SELECT conversation_id FROM turns") == [(other,)]  # the other conversation is kept

    assert_error(client.post("/api/ask", json={"question": "职工医保呢", "conversation_id": cid}),
                 404, "unknown_conversation")
    assert_error(client.delete(f"/api/conversations/{cid}"), 404, "unknown_conversation")
    assert_error(client.post("/api/feedback", json={"answer_id": a1["answer_id"], "rating": "down"}),
                 404, "unknown_answer")
    assert_error(client.delete("/api/conversations/not-an-id"), 404, "unknown_conversation")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                                     {"Authorization": f"Basic {TOKEN}"}])
def test_reading_a_conversation_needs_the_admin_token(client: TestClient, headers: dict) -> None:
    cid = ask(client, WAIT_RESIDENT)["conversation_id"]
    r = client.get(f"/api/conversations/{cid}", headers=headers)
    body = assert_error(r, 401, "unauthorized")
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert "居民医保" not in json.dumps(body, ensure_ascii=False)


def test_admin_reads_the_masked_turns(client: TestClient) -> None:
    a1 = ask(client, WAIT_RESIDENT)
    cid = a1["conversation_id"]
    a2 = ask(client, "职工医保呢", cid)
    client.post("/api/feedback", json={"answer_id": a2["answer_id"], "rating": "down", "comment": "没说清楚"})

    r = client.get(f"/api/conversations/{cid}", headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["conversation_id"] == cid
    turns = body["turns"]
    assert [t["turn"] for t in turns] == [1, 2]
    assert [t["answer_id"] for t in turns] == [a1["answer_id"], a2["answer_id"]]
    assert turns[0]["question"] == WAIT_RESIDENT.replace(PHONE, PHONE_MASK)
    assert PHONE not in r.text
    assert turns[1]["understood_as"] == a2["understood_as"] and turns[1]["status"] == "answered"
    assert turns[1]["cited_docs"] == [c["doc_id"] for c in a2["citations"]]
    assert (turns[0]["rating"], turns[1]["rating"], turns[1]["comment"]) == (None, "down", "没说清楚")

    assert_error(client.get(f"/api/conversations/{UNKNOWN_ID}", headers=AUTH), 404, "unknown_conversation")
    assert_error(client.get("/api/conversations/bad", headers=AUTH), 404, "unknown_conversation")


def test_reading_a_conversation_is_off_without_an_admin_token(qa_service, settings: Settings) -> None:
    with serving(qa_service, settings.model_copy(update={"admin_token": None})) as c:
        cid = ask(c, WAIT_RESIDENT)["conversation_id"]
        assert_error(c.get(f"/api/conversations/{cid}", headers=AUTH), 403, "admin_disabled")
        assert_error(c.get("/api/insights", headers=AUTH), 403, "admin_disabled")
        # Deleting one's own conversation needs no token.
        assert c.delete(f"/api/conversations/{cid}").status_code == 200


# --- the knowledge-gap report --------------------------------------------------------------------------

def test_insights_cluster_the_unanswered_questions(client: TestClient) -> None:
    understood = []
    for q in FILING:
        a = ask(client, q)
        assert a["status"] == "no_answer", q
        understood.append(a["understood_as"])
    assert ask(client, CHRONIC)["status"] == "no_answer"
    answered = ask(client, WAIT_RESIDENT)
    assert answered["status"] == "answered"

    assert_error(client.get("/api/insights"), 401, "unauthorized")
    r = client.get("/api/insights", headers=AUTH)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["gaps"] == len(FILING) + 1  # the answered question is not a gap
    assert sum(d["questions"] for d in report["volume_by_day"]) == len(FILING) + 2
    top = report["clusters"][0]
    assert top["count"] == len(FILING) and set(top["examples"]) == set(FILING)
    assert top["statuses"] == {"no_answer": len(FILING)} and top["rated_down"] == 0
    assert top["label"] in understood  # the cluster's most central question, as the service read it
    # The other missing topic is a cluster of its own.
    assert [c["examples"] for c in report["clusters"][1:]] == [[CHRONIC]]

    # A 👎 makes an answered question a gap too.
    client.post("/api/feedback", json={"answer_id": answered["answer_id"], "rating": "down"})
    report = client.get("/api/insights", headers=AUTH).json()
    assert report["gaps"] == len(FILING) + 2
    down = [c for c in report["clusters"] if c["rated_down"]]
    assert len(down) == 1 and down[0]["statuses"] == {"answered": 1}
    assert down[0]["examples"] == [WAIT_RESIDENT.replace(PHONE, PHONE_MASK)]

    assert_error(client.get("/api/insights?days=0", headers=AUTH), 422, "bad_days")
    assert client.get("/api/insights?days=1", headers=AUTH).json()["gaps"] == len(FILING) + 2


def test_insights_csv_is_safe_for_spreadsheets(client: TestClient) -> None:
    formula = "=异地就医备案要交什么表格"
    for q in [*FILING[:2], formula]:
        assert ask(client, q)["status"] == "no_answer", q
    rated = ask(client, MONTHLY)
    client.post("/api/feedback", json={"answer_id": rated["answer_id"], "rating": "down",
                                       "comment": '=HYPERLINK("http://example.com","点这里")'})

    assert_error(client.get("/api/insights.csv"), 401, "unauthorized")
    r = client.get("/api/insights.csv", headers=AUTH)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.startswith("\ufeffcluster,cluster_label,created,status,rating,question,understood_as,comment\n")
    table = list(csv.DictReader(io.StringIO(r.text.lstrip("\ufeff"))))
    assert len(table) == 4
    by_question = {row["question"]: row for row in table}
    assert by_question["'" + formula]["status"] == "no_answer"
    assert by_question["'" + formula]["understood_as"].startswith("'=")
    assert by_question[MONTHLY]["rating"] == "down"
    assert by_question[MONTHLY]["comment"] == "'" + '=HYPERLINK("http://example.com","点这里")'
    for row in table:
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@"), row
    # Questions of one cluster share its number and label.
    filing = [row for row in table if "备案" in row["question"]]
    assert len({(row["cluster"], row["cluster_label"]) for row in filing}) == 1


# --- when the store cannot be used ---------------------------------------------------------------------

def _file_as_folder(tmp_path: Path) -> Path:
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    return tmp_path / "a-file" / "conversations.sqlite"


def _folder_as_file(tmp_path: Path) -> Path:
    (tmp_path / "conversations.sqlite").mkdir()
    return tmp_path / "conversations.sqlite"


def _read_only_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "conversations.sqlite"


@pytest.mark.parametrize("broken", [
    _file_as_folder,
    _folder_as_file,
    pytest.param(_read_only_folder, marks=pytest.mark.skipif(
        hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes into read-only folders")),
])
def test_without_a_store_questions_are_answered_alone(qa_service, settings: Settings, tmp_path: Path,
                                                      broken) -> None:
    db = broken(tmp_path)
    try:
        with serving(qa_service, settings.model_copy(update={"conversations_db": db})) as c:
            assert qa_service.conversations is None
            a1 = ask(c, WAIT_RESIDENT)
            assert a1["status"] == "answered"
            assert a1["conversation_id"] is None and a1["answer_id"] is None
            # A well-formed id is not an error: the question is answered on its own.
            a2 = ask(c, "职工医保呢", UNKNOWN_ID)
            assert a2["conversation_id"] is None and a2["inherited"] == []
            assert_error(c.post("/api/feedback", json={"answer_id": UNKNOWN_ID, "rating": "up"}),
                         503, "conversations_unavailable")
            assert_error(c.delete(f"/api/conversations/{UNKNOWN_ID}"), 503, "conversations_unavailable")
            assert_error(c.get(f"/api/conversations/{UNKNOWN_ID}", headers=AUTH), 503, "conversations_unavailable")
            assert_error(c.get("/api/insights", headers=AUTH), 503, "conversations_unavailable")
    finally:
        db.parent.chmod(0o755)
    assert not db.is_file()


def test_a_store_failing_while_serving_does_not_fail_answers(qa_service, settings: Settings) -> None:
    with serving(qa_service, settings) as c:
        first = ask(c, WAIT_RESIDENT)
        qa_service.conversations.close()  # every later database call fails (ConversationStoreError)

        alone = ask(c, MONTHLY)
        assert alone["status"] == "answered" and alone["answer_id"] is None
        followup = ask(c, "职工医保呢", first["conversation_id"])
        assert followup["answer_id"] is None and followup["inherited"] == []
        assert_error(c.post("/api/feedback", json={"answer_id": first["answer_id"], "rating": "up"}),
                     503, "conversations_unavailable")
        assert_error(c.delete(f"/api/conversations/{first['conversation_id']}"), 503, "conversations_unavailable")
