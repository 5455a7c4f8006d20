"""The conversation store (qa/conversations.py) on real SQLite files."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import sqlite3
import threading
import time
from dataclasses import FrozenInstanceError
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

import qa.conversations as conversations
from qa.conversations import (
    SCHEMA_VERSION,
    ConversationStore,
    ConversationStoreError,
    UnknownAnswer,
    UnknownConversation,
    is_valid_id,
    new_id,
)
from qa.privacy import CARD_MASK, ID_MASK, PHONE_MASK

T0 = datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
ID_RE = re.compile(r"[A-Za-z0-9_-]{24}")


class Clock:
    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def add(store: ConversationStore, cid: str, question: str = "断缴3个月怎么补?", status: str = "answered",
        state: dict | None = None, **kw) -> str:
    return store.add_turn(
        cid,
        question=question,
        understood_as=kw.pop("understood_as", question),
        status=status,
        cited_docs=kw.pop("cited_docs", ["000_991f4531c80f9026"]),
        timings=kw.pop("timings", {"total": 12.5}),
        state=state if state is not None else {"insurance": "职工医保"},
    )


def raw_bytes(path: Path) -> bytes:
    """The database file and its -wal/-shm companions, as bytes."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def table_rows(path: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def store(tmp_path: Path, clock: Clock):
    s = ConversationStore(tmp_path / "conversations.db", clock=clock)
    yield s
    s.close()


# --- schema and migrations ------------------------------------------------------------------------------

V1_SCHEMA = [  # version 1 as it was shipped, written out by hand
    """CREATE TABLE conversations (id TEXT PRIMARY KEY CHECK (length(id) = 24), created TEXT NOT NULL,
       updated TEXT NOT NULL)""",
    """CREATE TABLE turns (id INTEGER PRIMARY KEY, answer_id TEXT NOT NULL UNIQUE CHECK (length(answer_id) = 24),
       conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
       turn INTEGER NOT NULL CHECK (turn >= 1), question TEXT NOT NULL, understood_as TEXT NOT NULL DEFAULT '',
       status TEXT NOT NULL, cited_docs TEXT NOT NULL DEFAULT '[]', timings TEXT NOT NULL DEFAULT '{}',
       state TEXT NOT NULL DEFAULT '{}', created TEXT NOT NULL, UNIQUE (conversation_id, turn))""",
    """CREATE TABLE feedback (answer_id TEXT PRIMARY KEY REFERENCES turns (answer_id) ON DELETE CASCADE,
       rating TEXT NOT NULL CHECK (rating IN ('up', 'down')),
       comment TEXT CHECK (comment IS NULL OR length(comment) <= 500), created TEXT NOT NULL)""",
]
V2_INDEXES = {"conversations_updated", "turns_created", "turns_status_created", "feedback_rating"}


def schema(path: Path) -> list[tuple]:
    return table_rows(path, "SELECT type, name, sql FROM sqlite_master ORDER BY name")


def user_version(path: Path) -> int:
    return table_rows(path, "PRAGMA user_version")[0][0]


def test_migrates_an_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "new" / "folder" / "c.db"  # the folder is created
    with ConversationStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION == 2
        conn = store._connection()
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    names = {name for _, name, _ in schema(path)}
    assert {"conversations", "turns", "feedback"} | V2_INDEXES <= names
    assert user_version(path) == SCHEMA_VERSION


def test_migrates_a_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.touch()
    with ConversationStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_upgrades_version_1_and_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    cid, aid = new_id(), new_id()
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in V1_SCHEMA:
        conn.execute(statement)
    conn.execute("INSERT INTO conversations VALUES (?, ?, ?)", (cid, "2025-04-01T00:00:00.000000Z",
                                                                "2025-04-01T00:00:00.000000Z"))
    conn.execute(
        "INSERT INTO turns (answer_id, conversation_id, turn, question, status, state, created) "
        "VALUES (?, ?, 1, '老问题', 'no_answer', '{\"region\": \"北京\"}', '2025-04-01T00:00:00.000000Z')",
        (aid, cid),
    )
    conn.execute("INSERT INTO feedback VALUES (?, 'down', '没用', '2025-04-01T00:01:00.000000Z')", (aid,))
    conn.execute("PRAGMA user_version = 1")
    conn.close()

    with ConversationStore(path, clock=Clock()) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.last_state(cid) == {"region": "北京"}
        [old] = store.history(cid)
        assert (old.question, old.status, old.rating, old.comment) == ("老问题", "no_answer", "down", "没用")
        add(store, cid, "新问题")
        assert [t.turn for t in store.history(cid)] == [1, 2]
        assert [g.answer_id for g in store.gaps()] == [aid]
    assert {name for _, name, _ in schema(path)} >= V2_INDEXES


def test_reopening_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with ConversationStore(path) as store:
        cid = store.new_conversation()
        add(store, cid)
    before = schema(path)
    for _ in range(3):
        with ConversationStore(path) as store:
            assert store.schema_version() == SCHEMA_VERSION
            assert len(store.history(cid)) == 1
    assert schema(path) == before


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    ConversationStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(ConversationStoreError, match="newer"):
        ConversationStore(path)


def test_a_failing_migration_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.db"
    ConversationStore(path).close()
    bad = (*conversations.MIGRATIONS, ("CREATE TABLE extra (a)", "THIS IS NOT SQL"))
    monkeypatch.setattr(conversations, "MIGRATIONS", bad)
    monkeypatch.setattr(conversations, "SCHEMA_VERSION", len(bad))
    with pytest.raises(ConversationStoreError, match="migrate"):
        ConversationStore(path)
    assert user_version(path) == 2
    assert "extra" not in {name for _, name, _ in schema(path)}


# --- turns and state ------------------------------------------------------------------------------------

def test_turns_state_and_history(store: ConversationStore, clock: Clock) -> None:
    cid = store.new_conversation()
    assert store.exists(cid)
    assert store.last_state(cid) is None
    assert store.history(cid) == []
    ids = []
    for i in range(5):
        clock.advance(minutes=1)
        state = {"turn": i, "calc": {"kind": "monthly", "params": {"rate": 0.04}}}
        ids.append(add(store, cid, f"问题{i}", state=state))
    assert store.last_state(cid) == {"turn": 4, "calc": {"kind": "monthly", "params": {"rate": 0.04}}}
    turns = store.history(cid, limit=2)
    assert [(t.turn, t.question, t.answer_id) for t in turns] == [(4, "问题3", ids[3]), (5, "问题4", ids[4])]
    first = store.history(cid)[0]
    assert first.cited_docs == ("000_991f4531c80f9026",)
    assert first.timings == {"total": 12.5}
    assert first.created == "2025-05-01T08:01:00.000000Z"
    assert first.rating is None
    with pytest.raises(FrozenInstanceError):
        first.question = "x"  # type: ignore[misc]
    other = store.new_conversation()
    assert store.last_state(other) is None  # conversations do not share state


@pytest.mark.parametrize("limit", [0, -1, 1001, 2.0, True])
def test_history_limit_is_checked(store: ConversationStore, limit) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.history(store.new_conversation(), limit=limit)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "bogus"),
        ("question", ""),
        ("question", "   "),
        ("question", "长" * 4001),
        ("cited_docs", "000_991f4531c80f9026"),
        ("cited_docs", [1, 2]),
        ("state", {"x": {1, 2}}),
        ("state", {"x": float("nan")}),
        ("state", {1: "x"}),
        ("state", ["not", "a", "dict"]),
        ("timings", {"total": float("inf")}),
    ],
)
def test_bad_turns_are_refused_and_not_written(store: ConversationStore, field: str, value) -> None:
    cid = store.new_conversation()
    kwargs = {"question": "问题", "understood_as": "", "status": "answered", "cited_docs": [], "timings": {},
              "state": {}}
    kwargs[field] = value
    with pytest.raises(ValueError):
        store.add_turn(cid, **kwargs)
    assert store.history(cid) == []


def test_turns_need_an_existing_conversation(store: ConversationStore) -> None:
    with pytest.raises(UnknownConversation):
        add(store, new_id())
    assert table_rows(store.path, "SELECT count(*) FROM conversations") == [(0,)]


# --- ids --------------------------------------------------------------------------------------------------

def test_ids_are_unguessable(store: ConversationStore) -> None:
    conversation_ids = [store.new_conversation() for _ in range(10_000)]
    assert len(set(conversation_ids)) == 10_000
    assert all(ID_RE.fullmatch(c) for c in conversation_ids)
    cid = conversation_ids[0]
    answer_ids = [add(store, cid) for _ in range(200)]
    generated = [new_id() for _ in range(10_000)]
    every = conversation_ids + answer_ids + generated
    assert len(set(every)) == len(every)
    assert all(ID_RE.fullmatch(i) for i in answer_ids + generated)
    # 144 random bits: every character of the url-safe alphabet shows up, no shared prefixes or sequences.
    assert set("".join(generated)) == set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len({i[:6] for i in generated}) > 9_990
    assert [t.turn for t in store.history(cid, limit=1000)] == list(range(1, 201))


MALFORMED = [
    "", "short", "a" * 23, "a" * 25, "a" * 23 + "!", "a" * 23 + "é", "ａ" * 24, "a" * 24 + "\n",
    "'; DROP TABLE conversations;--", "../../etc/passwd_________", None, 123, b"a" * 24,
]


@pytest.mark.parametrize("bad", MALFORMED)
def test_malformed_ids_are_rejected_before_any_query(store: ConversationStore, bad) -> None:
    assert not is_valid_id(bad)
    statements: list[str] = []
    store._connection().set_trace_callback(statements.append)
    try:
        assert store.exists(bad) is False
        assert store.delete_conversation(bad) is False
        with pytest.raises(UnknownConversation):
            store.last_state(bad)
        with pytest.raises(UnknownConversation):
            store.history(bad)
        with pytest.raises(UnknownConversation):
            add(store, bad)
        with pytest.raises(UnknownAnswer):
            store.add_feedback(bad, "up")
    finally:
        store._connection().set_trace_callback(None)
    assert statements == []


def test_unknown_well_formed_ids(store: ConversationStore) -> None:
    unknown = new_id()
    assert store.exists(unknown) is False
    assert store.delete_conversation(unknown) is False
    with pytest.raises(UnknownConversation):
        store.last_state(unknown)
    with pytest.raises(UnknownConversation):
        store.history(unknown)
    with pytest.raises(UnknownAnswer):
        store.add_feedback(unknown, "down")


# --- masking ----------------------------------------------------------------------------------------------

PERSONAL = ["11010519491231002X", "110105194912310021", "13812345678", "13900001111", "6222020012345678901",
            "6222 0200 1234 5678", "138 1234 5678", "138-1234-5678", "１３８１２３４５６７８"]


def test_nothing_unmasked_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = ConversationStore(path)
    cid = store.new_conversation()
    aid = store.add_turn(
        cid,
        question="我身份证11010519491231002X,手机13812345678,社保卡6222020012345678901,断缴3个月怎么补?",
        understood_as="身份证110105194912310021的人电话138 1234 5678断缴3个月怎么补缴?",
        status="partial",
        cited_docs=["doc_13900001111"],
        timings={"total": 12.345678901234},
        state={"phone": "138-1234-5678", "id_number": 110105194912310021, "13900001111": "as a key",
               "nested": [{"card": "6222 0200 1234 5678"}], "base": 4340, "rate": 0.04},
    )
    store.add_feedback(aid, "down", "我的手机１３８１２３４５６７８,卡号6222 0200 1234 5678,还是没说清楚")

    [turn] = store.history(cid)
    assert turn.question == f"我身份证{ID_MASK},手机{PHONE_MASK},社保卡{CARD_MASK},断缴3个月怎么补?"
    assert turn.understood_as == f"身份证{ID_MASK}的人电话{PHONE_MASK}断缴3个月怎么补缴?"
    assert turn.cited_docs == (f"doc_{PHONE_MASK}",)
    assert turn.timings == {"total": 12.345678901234}  # long decimals are not personal numbers
    assert turn.state == {"phone": PHONE_MASK, "id_number": ID_MASK, PHONE_MASK: "as a key",
                          "nested": [{"card": CARD_MASK}], "base": 4340, "rate": 0.04}
    assert turn.comment == f"我的手机{PHONE_MASK},卡号{CARD_MASK},还是没说清楚"

    def check(data: bytes) -> None:
        assert PHONE_MASK.encode() in data  # reading the right bytes
        for number in PERSONAL:
            assert number.encode() not in data, number
            assert number.encode("utf-16-le") not in data, number
        assert not re.search(rb"(?<![\d.])\d{11,}", data)  # (a float's decimals may be long)

    assert Path(f"{path}-wal").stat().st_size > 0  # the turns are still in the WAL
    check(raw_bytes(path))
    store.close()  # the last connection checkpoints the WAL into the database file
    check(raw_bytes(path))


# --- feedback ---------------------------------------------------------------------------------------------

def test_feedback_up_down_and_replace(store: ConversationStore, clock: Clock) -> None:
    cid = store.new_conversation()
    aid = add(store, cid)
    store.add_feedback(aid, "up")
    assert store.history(cid)[0].rating == "up"
    clock.advance(minutes=5)
    store.add_feedback(aid, "down", "  没回答我的问题  ")
    clock.advance(minutes=5)
    store.add_feedback(aid, "down", "还是不对")
    [turn] = store.history(cid)
    assert (turn.rating, turn.comment) == ("down", "还是不对")
    assert table_rows(store.path, "SELECT count(*), max(created) FROM feedback") == [(1, "2025-05-01T08:10:00.000000Z")]
    store.add_feedback(aid, "up", "   ")  # a blank comment replaces the old one with none
    assert (store.history(cid)[0].rating, store.history(cid)[0].comment) == ("up", None)
    store.add_feedback(aid, "up", "好" * 500)
    assert store.history(cid)[0].comment == "好" * 500


@pytest.mark.parametrize("rating", ["like", "", "UP", "👍", None, 1])
def test_bad_ratings(store: ConversationStore, rating) -> None:
    aid = add(store, store.new_conversation())
    with pytest.raises(ValueError, match="rating"):
        store.add_feedback(aid, rating)
    assert table_rows(store.path, "SELECT count(*) FROM feedback") == [(0,)]


def test_bad_comments(store: ConversationStore) -> None:
    aid = add(store, store.new_conversation())
    with pytest.raises(ValueError, match="500"):
        store.add_feedback(aid, "down", "长" * 501)
    with pytest.raises(ValueError, match="comment"):
        store.add_feedback(aid, "down", 42)  # type: ignore[arg-type]
    assert table_rows(store.path, "SELECT count(*) FROM feedback") == [(0,)]


# --- deletion and retention -------------------------------------------------------------------------------

def test_delete_cascades(store: ConversationStore) -> None:
    cid, keep = store.new_conversation(), store.new_conversation()
    answers = [add(store, cid) for _ in range(3)]
    store.add_feedback(answers[0], "up")
    store.add_feedback(answers[2], "down", "不对")
    kept_answer = add(store, keep)
    store.add_feedback(kept_answer, "down")

    assert store.delete_conversation(cid) is True
    assert store.exists(cid) is False
    assert table_rows(store.path, "SELECT conversation_id, count(*) FROM turns GROUP BY 1") == [(keep, 1)]
    assert table_rows(store.path, "SELECT answer_id FROM feedback") == [(kept_answer,)]
    assert table_rows(store.path, "PRAGMA foreign_key_check") == []
    assert store.delete_conversation(cid) is False
    with pytest.raises(UnknownConversation):
        store.history(cid)
    with pytest.raises(UnknownAnswer):
        store.add_feedback(answers[0], "up")


def test_purge_by_last_update(store: ConversationStore, clock: Clock) -> None:
    old = store.new_conversation()
    add(store, old, "保留期甲问题")  # last update: day 0
    rated_later = store.new_conversation()
    aid = add(store, rated_later, "保留期乙问题")
    continued = store.new_conversation()
    add(store, continued, "保留期丙问题")
    clock.advance(days=20)
    store.add_feedback(aid, "down")  # feedback counts as activity
    add(store, continued)
    clock.advance(days=25)
    recent = store.new_conversation()

    with pytest.raises(ValueError):
        store.purge(-1)
    with pytest.raises(ValueError):
        store.purge(1.5)  # type: ignore[arg-type]
    assert store.purge(60) == 0
    assert store.purge(30) == 1  # day 45 − 30 = day 15: only `old` was last updated before
    assert [store.exists(c) for c in (old, rated_later, continued, recent)] == [False, True, True, True]
    assert table_rows(store.path, "SELECT count(*) FROM turns") == [(3,)]
    assert table_rows(store.path, "SELECT count(*) FROM feedback") == [(1,)]
    # The purged text is gone from the file (secure_delete, WAL truncated), the kept text is there.
    data = raw_bytes(store.path)
    assert "保留期甲问题".encode() not in data
    assert "保留期乙问题".encode() in data
    clock.advance(days=100)
    assert store.purge(0) == 3
    assert table_rows(store.path, "SELECT count(*) FROM turns") == [(0,)]


def test_purge_if_due_runs_once_a_day(store: ConversationStore, clock: Clock) -> None:
    cid = store.new_conversation()
    add(store, cid, "每日清理甲")
    assert store.purge_if_due(30) == 0  # the first call purges (nothing is old yet)
    clock.advance(hours=12)
    assert store.purge_if_due(30) is None  # not due: less than a day since the last purge
    clock.advance(days=31)
    assert store.purge_if_due(30) == 1  # due again: the 31-day-old conversation goes
    assert not store.exists(cid)
    assert store.purge_if_due(30) is None


# --- reports ----------------------------------------------------------------------------------------------

def test_gaps_and_volume(store: ConversationStore, clock: Clock) -> None:
    cid = store.new_conversation()
    answered_down = add(store, cid, "问题A", "answered")  # day 0
    add(store, cid, "问题B", "out_of_scope")
    clock.advance(days=1)
    partial_up = add(store, cid, "问题C", "partial")  # day 1
    no_answer = add(store, cid, "问题D", "no_answer")
    add(store, cid, "问题E", "answered")
    clock.advance(days=2)
    late = add(store, cid, "问题F", "no_answer")  # day 3
    store.add_feedback(answered_down, "down", "答非所问")
    store.add_feedback(partial_up, "up")

    gaps = store.gaps()
    assert [(g.answer_id, g.question, g.status, g.rating, g.comment) for g in gaps] == [
        (answered_down, "问题A", "answered", "down", "答非所问"),
        (partial_up, "问题C", "partial", "up", None),
        (no_answer, "问题D", "no_answer", None, None),
        (late, "问题F", "no_answer", None, None),
    ]
    assert gaps[0].created == "2025-05-01T08:00:00.000000Z"
    assert {g.conversation_id for g in gaps} == {cid}
    day1 = T0 + timedelta(days=1)
    assert [g.answer_id for g in store.gaps(since=day1)] == [partial_up, no_answer, late]
    assert [g.answer_id for g in store.gaps(since=day1, until=date(2025, 5, 3))] == [partial_up, no_answer]
    naive = datetime(2025, 5, 1, 9, 0)  # naive means UTC
    assert [g.answer_id for g in store.gaps(until=naive)] == [answered_down]
    assert store.volume_by_day() == [("2025-05-01", 2), ("2025-05-02", 3), ("2025-05-04", 1)]
    assert store.volume_by_day(since=date(2025, 5, 2)) == [("2025-05-02", 3), ("2025-05-04", 1)]
    assert store.volume_by_day(since=T0 + timedelta(days=10)) == []


# --- errors -----------------------------------------------------------------------------------------------

def test_a_locked_database_times_out(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    store = ConversationStore(path, timeout=0.2)
    cid = store.new_conversation()
    aid = add(store, cid)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        for call in (lambda: add(store, cid), store.new_conversation, lambda: store.add_feedback(aid, "up"),
                     lambda: store.purge(0), lambda: store.delete_conversation(cid)):
            start = time.monotonic()
            with pytest.raises(ConversationStoreError, match="database is locked") as info:
                call()
            assert 0.15 < time.monotonic() - start < 3
            assert str(path) in str(info.value)
        assert "add_turn failed" in str(pytest.raises(ConversationStoreError, add, store, cid).value)
        assert store.last_state(cid) == {"insurance": "职工医保"}  # WAL: reading goes on
    finally:
        other.execute("ROLLBACK")
        other.close()
    add(store, cid)  # and writing resumes
    assert len(store.history(cid)) == 2
    store.close()


def test_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConversationStoreError, match="directory"):
        ConversationStore(tmp_path)


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConversationStoreError, match="cannot create the folder"):
        ConversationStore(tmp_path / "file" / "c.db")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write anywhere")
def test_unwritable_folder(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ConversationStoreError, match="not writable"):
            ConversationStore(folder / "c.db")
    finally:
        folder.chmod(0o700)


def test_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    path.write_bytes(b"this is not a database file\n" * 200)
    with pytest.raises(ConversationStoreError, match="not a database") as info:
        ConversationStore(path)
    assert str(path) in str(info.value)


def test_corrupt_pages(tmp_path: Path) -> None:
    path = tmp_path / "c.db"
    with ConversationStore(path) as store:
        cid = store.new_conversation()
        for _ in range(50):
            add(store, cid, "断缴" * 50)
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)  # every page after the first (schema) page
    path.write_bytes(bytes(data))
    with pytest.raises(ConversationStoreError, match="malformed"):
        ConversationStore(path).history(cid)


def test_closed_store(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    store.close()
    with pytest.raises(ConversationStoreError, match="closed"):
        store.new_conversation()


# --- concurrency ------------------------------------------------------------------------------------------

def _worker(path: str, conversation_id: str | None, n: int, start, results) -> None:
    store = ConversationStore(path, timeout=30)  # on a fresh file, the workers migrate it together
    cid = conversation_id or store.new_conversation()
    start.wait(30)
    answers = [
        store.add_turn(cid, question=f"进程{os.getpid()}的第{i}个问题", understood_as="", status="answered",
                       cited_docs=[], timings={}, state={"pid": os.getpid(), "i": i})
        for i in range(n)
    ]
    store.close()
    results.put((cid, os.getpid(), answers))


@pytest.mark.parametrize("shared", [True, False], ids=["same-conversation", "own-conversations"])
def test_processes_write_concurrently(tmp_path: Path, shared: bool) -> None:
    path = tmp_path / "c.db"
    conversation_id = None
    if shared:
        with ConversationStore(path) as store:
            conversation_id = store.new_conversation()
    ctx = multiprocessing.get_context("spawn")  # like the API's workers
    start, results = ctx.Event(), ctx.Queue()
    processes, n = 4, 40
    workers = [ctx.Process(target=_worker, args=(str(path), conversation_id, n, start, results))
               for _ in range(processes)]
    for w in workers:
        w.start()
    start.set()
    out = [results.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(30)
        assert w.exitcode == 0

    with ConversationStore(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        cids = {cid for cid, _, _ in out}
        assert len(cids) == (1 if shared else processes)
        stored = {}
        for cid in cids:
            turns = store.history(cid, limit=1000)
            # numbering has no gaps and no duplicates, even with four writers in one conversation
            assert [t.turn for t in turns] == list(range(1, len(turns) + 1))
            stored.update({t.answer_id: t for t in turns})
        assert len(stored) == processes * n  # no lost rows
        for _, pid, answers in out:
            assert [stored[a].state for a in answers] == [{"pid": pid, "i": i} for i in range(n)]
            assert [stored[a].turn for a in answers] == sorted(stored[a].turn for a in answers)


def _forked_child(store: ConversationStore, cid: str) -> None:
    add(store, cid, "子进程的问题")  # the connection inherited from the parent is not used
    store.close()


def test_a_forked_child_opens_its_own_connection(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.db")
    cid = store.new_conversation()
    add(store, cid, "父进程的问题")
    child = multiprocessing.get_context("fork").Process(target=_forked_child, args=(store, cid))
    child.start()
    child.join(30)
    assert child.exitcode == 0
    add(store, cid, "父进程的第二个问题")  # the parent's connection still works
    assert [t.question for t in store.history(cid)] == ["父进程的问题", "子进程的问题", "父进程的第二个问题"]
    store.close()


def test_threads_share_a_store(store: ConversationStore) -> None:
    cid = store.new_conversation()
    errors: list[BaseException] = []
    used: list[sqlite3.Connection] = []

    def run(k: int) -> None:
        try:
            used.append(store._connection())
            for i in range(20):
                add(store, cid, f"线程{k}问题{i}")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len({id(c) for c in used}) == 8 and store._connection() not in used  # one connection per thread
    used.clear()
    assert [t.turn for t in store.history(cid, limit=1000)] == list(range(1, 161))
    # A finished thread's connection is closed with its thread-local storage, not kept by the store.
    deadline = time.monotonic() + 5
    while len(store._connections) > 1 and time.monotonic() < deadline:
        gc.collect()
        time.sleep(0.01)
    assert list(store._connections) == [store._connection()]
