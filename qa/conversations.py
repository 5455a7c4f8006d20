"""Conversation storage: turns, their state and users' 👍/👎, in one SQLite file.

``POST /api/ask`` may carry a ``conversation_id``; each turn is answered with what earlier turns
established (the previous turn's ``state``, a JSON-able dict produced by the QA side). Several worker
processes of ``python -m api`` serve one conversation, so that state lives here, in the database, and
not in any process's memory. Users rate answers (``up``/``down``, optional comment); maintainers read
the knowledge-gap report (:meth:`ConversationStore.gaps`) of unanswered, partial and 👎 questions.

Storage
    One SQLite file (stdlib ``sqlite3``) in WAL journal mode, so readers never wait for the writer and
    several processes can write (one at a time; each write is a short ``BEGIN IMMEDIATE`` transaction,
    and a writer that finds the file locked waits up to ``timeout`` seconds — ``busy_timeout`` — before
    giving up). Foreign keys are on (deleting a conversation deletes its turns and their feedback),
    ``secure_delete`` is on (deleted text is overwritten in the file) and :meth:`purge` truncates the
    WAL, so retention actually removes the text from disk. Each thread of each process has its own
    connection (a ``threading.local``; a connection inherited through ``fork`` is never reused). WAL
    needs the file on a local file system (not NFS) and a writable folder (for ``-wal``/``-shm``).

Schema migrations
    :data:`MIGRATIONS` is a list of SQL steps; step *n* brings the file to version *n*, which is recorded
    in ``PRAGMA user_version``. Opening the store applies the missing steps in one transaction (so
    processes starting together migrate once; a failed step leaves the file at its old version). A file
    written by a newer version is refused. Not Alembic: the schema is three tables in one stdlib-only
    file, Alembic (and SQLAlchemy) are not dependencies of the project, and SQLite's own version field
    does the bookkeeping without an extra table. Steps only ever get appended.

Privacy
    Every text written — question, understood_as, comment, the strings (and dict keys) inside ``state``,
    ``timings`` and cited doc ids, and integers whose digits look like a personal number — goes through
    :func:`qa.privacy.mask_pii` first (身份证号, 手机号, 银行卡/社保卡号). Nothing unmasked is written, so
    nothing unmasked can be read back. Conversation and answer ids are ``secrets.token_urlsafe(18)``
    (144 random bits, 24 characters of ``[A-Za-z0-9_-]``); an id of any other shape is rejected before
    any query.

Errors
    Every SQLite failure (locked beyond the timeout, disk I/O, a corrupt or unwritable file) is raised as
    :class:`ConversationStoreError`, whose message names the file and the operation, so the API can serve
    the answer anyway and log. Unknown ids raise :class:`UnknownConversation` / :class:`UnknownAnswer`;
    bad arguments (a rating other than up/down, a comment over 500 characters, a state that is not JSON)
    raise ``ValueError``.

Times are ISO 8601 UTC strings with microseconds (``2025-05-17T08:30:00.000000Z``), so they sort as text.
"""

from __future__ import annotations

import json
import math
import os
import re
import secrets
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, get_args

from .models import Status
from .privacy import mask_pii

__all__ = [
    "COMMENT_MAX_CHARS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "ConversationStore",
    "ConversationStoreError",
    "GapItem",
    "Rating",
    "Turn",
    "UnknownAnswer",
    "UnknownConversation",
    "is_valid_id",
    "new_id",
]

Rating = Literal["up", "down"]
RATINGS: tuple[str, ...] = get_args(Rating)
STATUSES: tuple[str, ...] = get_args(Status)
GAP_STATUSES = ("no_answer", "partial")

COMMENT_MAX_CHARS = 500
TEXT_MAX_CHARS = 4000  # question / understood_as; the API allows 500
HISTORY_MAX = 1000

ID_BYTES = 18  # secrets.token_urlsafe(18): 144 random bits → 24 characters
ID_LENGTH = 24
_ID = re.compile(rf"[A-Za-z0-9_-]{{{ID_LENGTH}}}")


# --- errors -------------------------------------------------------------------------------------------

class ConversationStoreError(Exception):
    """The database could not be read or written (locked beyond the timeout, I/O error, corrupt file …)."""


class UnknownConversation(LookupError):
    """No conversation with this id (or the id is malformed)."""


class UnknownAnswer(LookupError):
    """No turn with this answer id (or the id is malformed)."""


# --- records ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Turn:
    """One stored turn; texts are masked. ``rating``/``comment`` are the latest feedback, if any."""

    answer_id: str
    conversation_id: str
    turn: int
    question: str
    understood_as: str
    status: str
    cited_docs: tuple[str, ...]
    timings: dict[str, Any]
    state: dict[str, Any]
    created: str
    rating: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class GapItem:
    """A question the service could not (fully) answer, or whose answer was rated down."""

    answer_id: str
    conversation_id: str
    created: str
    question: str
    understood_as: str
    status: str
    rating: str | None
    comment: str | None


# --- schema -------------------------------------------------------------------------------------------

# MIGRATIONS[n - 1] brings the file from version n - 1 to n. Append only; never edit a shipped step.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # v1: the tables.
    (
        """CREATE TABLE conversations (
            id      TEXT PRIMARY KEY CHECK (length(id) = 24),
            created TEXT NOT NULL,
            updated TEXT NOT NULL
        )""",
        """CREATE TABLE turns (
            id              INTEGER PRIMARY KEY,
            answer_id       TEXT NOT NULL UNIQUE CHECK (length(answer_id) = 24),
            conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
            turn            INTEGER NOT NULL CHECK (turn >= 1),
            question        TEXT NOT NULL,
            understood_as   TEXT NOT NULL DEFAULT '',
            status          TEXT NOT NULL,
            cited_docs      TEXT NOT NULL DEFAULT '[]',
            timings         TEXT NOT NULL DEFAULT '{}',
            state           TEXT NOT NULL DEFAULT '{}',
            created         TEXT NOT NULL,
            UNIQUE (conversation_id, turn)
        )""",
        """CREATE TABLE feedback (
            answer_id TEXT PRIMARY KEY REFERENCES turns (answer_id) ON DELETE CASCADE,
            rating    TEXT NOT NULL CHECK (rating IN ('up', 'down')),
            comment   TEXT CHECK (comment IS NULL OR length(comment) <= 500),
            created   TEXT NOT NULL
        )""",
    ),
    # v2: indexes for retention (purge by last update) and the insights report (gaps, volume by day).
    (
        "CREATE INDEX conversations_updated ON conversations (updated)",
        "CREATE INDEX turns_created ON turns (created)",
        "CREATE INDEX turns_status_created ON turns (status, created)",
        "CREATE INDEX feedback_rating ON feedback (rating, answer_id)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


# --- ids, time, masking -------------------------------------------------------------------------------

def new_id() -> str:
    """A fresh unguessable id: 24 characters of ``[A-Za-z0-9_-]`` (144 random bits)."""
    return secrets.token_urlsafe(ID_BYTES)


def is_valid_id(value: object) -> bool:
    """True when ``value`` has the shape of an id :func:`new_id` makes (checked before any query)."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _utc(moment: datetime | date) -> datetime:
    if not isinstance(moment, datetime):
        return datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime | date) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _masked_number(value: int | float) -> int | float | str:
    """A number whose integer digits would be masked in text (a phone or ID number sent as a number)
    becomes the placeholder; any other number is kept."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("NaN and infinity cannot be stored as JSON")
    digits = str(int(value))
    masked = mask_pii(digits)
    return value if masked == digits else masked


def _mask_json(value: Any, where: str) -> Any:
    """A JSON-able copy of ``value`` with every string (and dict key) masked."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return mask_pii(value)
    if isinstance(value, int | float):
        return _masked_number(value)
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"{where}: keys must be strings, got {type(key).__name__}")
            out[mask_pii(key)] = _mask_json(item, where)
        return out
    if isinstance(value, list | tuple):
        return [_mask_json(item, where) for item in value]
    raise ValueError(f"{where}: {type(value).__name__} is not JSON-able")


def _dump(value: Any, where: str) -> str:
    return json.dumps(_mask_json(value, where), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _text(value: object, where: str, *, required: bool) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{where} must be a string, got {type(value).__name__}")
    if required and not value.strip():
        raise ValueError(f"{where} is empty")
    if len(value) > TEXT_MAX_CHARS:
        raise ValueError(f"{where} is longer than {TEXT_MAX_CHARS} characters")
    return mask_pii(value)


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (the store's registry must not keep a finished thread's
    connection open)."""


# --- the store ----------------------------------------------------------------------------------------

class ConversationStore:
    """Conversations, turns and feedback in one SQLite file; safe for several threads and processes.

    ``timeout`` is how long (seconds) a write waits for another writer's lock before
    :class:`ConversationStoreError`; ``clock`` returns the current time (tests inject one).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if timeout < 0:
            raise ValueError("timeout must be ≥ 0 seconds")
        self.path = Path(path)
        self.timeout = float(timeout)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._local = threading.local()
        self._lock = threading.Lock()
        # This process's open connections, for close(); weak, so a finished thread's connection is closed
        # when its thread-local storage goes.
        self._connections: weakref.WeakSet[_Connection] = weakref.WeakSet()
        self._inherited: list[sqlite3.Connection] = []  # a parent's (fork): kept, never used or closed
        self._pid = os.getpid()
        self._closed = False
        self._prepare_folder()
        try:
            with self._errors("open and migrate the database"):
                self._migrate(self._connection())
        except BaseException:
            self.close()
            raise

    # --- public API -----------------------------------------------------------------------------------

    def new_conversation(self) -> str:
        """Create a conversation; returns its id."""
        conversation_id = new_id()
        now = self._now()
        with self._write("new_conversation") as conn:
            conn.execute(
                "INSERT INTO conversations (id, created, updated) VALUES (?, ?, ?)", (conversation_id, now, now)
            )
        return conversation_id

    def exists(self, conversation_id: str) -> bool:
        if not is_valid_id(conversation_id):
            return False
        with self._errors("exists"):
            row = self._connection().execute(
                "SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
        return row is not None

    def last_state(self, conversation_id: str) -> dict[str, Any] | None:
        """The latest turn's state; None for a conversation without turns. Unknown id: UnknownConversation."""
        self._check_conversation_id(conversation_id)
        with self._read("last_state") as conn:
            self._require_conversation(conn, conversation_id)
            row = conn.execute(
                "SELECT state FROM turns WHERE conversation_id = ? ORDER BY turn DESC LIMIT 1", (conversation_id,)
            ).fetchone()
        return None if row is None else json.loads(row[0])

    def history(self, conversation_id: str, limit: int = 20) -> list[Turn]:
        """The latest ``limit`` turns, oldest first, with their feedback."""
        self._check_conversation_id(conversation_id)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= HISTORY_MAX:
            raise ValueError(f"limit must be an integer from 1 to {HISTORY_MAX}")
        with self._read("history") as conn:
            self._require_conversation(conn, conversation_id)
            rows = conn.execute(
                """SELECT t.answer_id, t.conversation_id, t.turn, t.question, t.understood_as, t.status,
                          t.cited_docs, t.timings, t.state, t.created, f.rating, f.comment
                   FROM turns t LEFT JOIN feedback f ON f.answer_id = t.answer_id
                   WHERE t.conversation_id = ? ORDER BY t.turn DESC LIMIT ?""",
                (conversation_id, limit),
            ).fetchall()
        return [
            Turn(
                answer_id=r[0], conversation_id=r[1], turn=r[2], question=r[3], understood_as=r[4], status=r[5],
                cited_docs=tuple(json.loads(r[6])), timings=json.loads(r[7]), state=json.loads(r[8]),
                created=r[9], rating=r[10], comment=r[11],
            )
            for r in reversed(rows)
        ]

    def add_turn(
        self,
        conversation_id: str,
        *,
        question: str,
        understood_as: str,
        status: str,
        cited_docs: Sequence[str],
        timings: Mapping[str, float],
        state: Mapping[str, Any],
    ) -> str:
        """Store the next turn of an existing conversation (masked); returns the new answer id.

        The conversation must exist (:meth:`new_conversation`), else :class:`UnknownConversation`."""
        self._check_conversation_id(conversation_id)
        question_m = _text(question, "question", required=True)
        understood_m = _text(understood_as, "understood_as", required=False)
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}, got {status!r}")
        if isinstance(cited_docs, str) or not isinstance(cited_docs, Sequence):
            raise ValueError("cited_docs must be a list of doc ids")
        if not all(isinstance(d, str) for d in cited_docs):
            raise ValueError("cited_docs must be a list of doc ids")
        if not isinstance(timings, Mapping) or not isinstance(state, Mapping):
            raise ValueError("timings and state must be dicts")
        docs_json = _dump(list(cited_docs), "cited_docs")
        timings_json = _dump(timings, "timings")
        state_json = _dump(state, "state")
        answer_id = new_id()
        now = self._now()
        with self._write("add_turn") as conn:
            self._require_conversation(conn, conversation_id)
            (number,) = conn.execute(
                "SELECT coalesce(max(turn), 0) + 1 FROM turns WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
            conn.execute(
                """INSERT INTO turns (answer_id, conversation_id, turn, question, understood_as, status,
                                      cited_docs, timings, state, created)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
                (answer_id, conversation_id, number, question_m, understood_m, status,
                 docs_json, timings_json, state_json, now),
            )
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        return answer_id

    def add_feedback(self, answer_id: str, rating: str, comment: str | None = None) -> None:
        """Rate an answer ``up`` or ``down`` (one rating per answer: the latest replaces the earlier one).

        ``comment`` (optional, at most 500 characters) is masked; a blank comment is stored as None."""
        if not is_valid_id(answer_id):
            raise UnknownAnswer("malformed answer id")
        if rating not in RATINGS:
            raise ValueError(f"rating must be 'up' or 'down', got {rating!r}")
        if comment is not None:
            if not isinstance(comment, str):
                raise ValueError(f"comment must be a string, got {type(comment).__name__}")
            comment = comment.strip()
            if len(comment) > COMMENT_MAX_CHARS:
                raise ValueError(f"comment is longer than {COMMENT_MAX_CHARS} characters")
            # Masked as a whole (never cut first: a cut could leave part of a number unmasked).
            comment = mask_pii(comment) or None
        now = self._now()
        with self._write("add_feedback") as conn:
            row = conn.execute("SELECT conversation_id FROM turns WHERE answer_id = ?", (answer_id,)).fetchone()
            if row is None:
                raise UnknownAnswer(f"no answer {answer_id}")
            conn.execute(
                """INSERT INTO feedback (answer_id, rating, comment, created) VALUES (?, ?, ?, ?)
                   ON CONFLICT (answer_id) DO UPDATE
                   SET rating = excluded.rating, comment = excluded.comment, created = excluded.created""",
                (answer_id, rating, comment, now),
            )
            conn.execute("UPDATE conversations SET updated = ? WHERE id = ?", (now, row[0]))

    def delete_conversation(self, conversation_id: str) -> bool:
        """Delete a conversation with its turns and feedback; False if there was none."""
        if not is_valid_id(conversation_id):
            return False
        with self._write("delete_conversation") as conn:
            deleted = conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount
        if deleted:
            self._checkpoint("PASSIVE")
        return deleted > 0

    def purge(self, older_than_days: int) -> int:
        """Retention: delete conversations (with turns and feedback) last updated more than
        ``older_than_days`` days ago; returns how many conversations were deleted."""
        if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 0:
            raise ValueError("older_than_days must be an integer ≥ 0")
        cutoff = _iso(_utc(self._clock()) - timedelta(days=older_than_days))
        with self._write("purge") as conn:
            deleted = conn.execute("DELETE FROM conversations WHERE updated < ?", (cutoff,)).rowcount
        if deleted:
            # Copy the (zeroed) pages into the file and empty the WAL, so the deleted text is gone from disk.
            self._checkpoint("TRUNCATE")
        return deleted

    def purge_if_due(self, older_than_days: int, every: timedelta = timedelta(days=1)) -> int | None:
        """``purge`` at most once per ``every`` in this process (a running service purges daily without a
        scheduler); None when it was not yet due. Several processes may each purge: it is idempotent."""
        now = _utc(self._clock())
        with self._lock:
            last = getattr(self, "_last_purge", None)
            if last is not None and now - last < every:
                return None
            self._last_purge = now
        return self.purge(older_than_days)

    def gaps(self, since: datetime | date | None = None, until: datetime | date | None = None) -> list[GapItem]:
        """Turns asked in [since, until) that were not (fully) answered (no_answer, partial) or were
        rated down, oldest first."""
        low = _iso(since) if since is not None else ""
        high = _iso(until) if until is not None else "\uffff"
        columns = """t.answer_id, t.conversation_id, t.created, t.question, t.understood_as, t.status,
                     f.rating, f.comment"""
        with self._read("gaps") as conn:
            rows = conn.execute(  # t.id: insertion order among turns stored in the same microsecond
                f"""SELECT t.id, {columns} FROM turns t LEFT JOIN feedback f ON f.answer_id = t.answer_id
                    WHERE t.status IN (?, ?) AND t.created >= ? AND t.created < ?
                    UNION
                    SELECT t.id, {columns} FROM feedback f JOIN turns t ON t.answer_id = f.answer_id
                    WHERE f.rating = 'down' AND t.created >= ? AND t.created < ?
                    ORDER BY 4, 1""",
                (*GAP_STATUSES, low, high, low, high),
            ).fetchall()
        return [GapItem(*row[1:]) for row in rows]

    def volume_by_day(self, since: datetime | date | None = None) -> list[tuple[str, int]]:
        """Questions (turns) per UTC day from ``since`` on: ``[("2025-05-17", 12), …]``, oldest first."""
        low = _iso(since) if since is not None else ""
        with self._read("volume_by_day") as conn:
            rows = conn.execute(
                """SELECT substr(created, 1, 10) AS day, count(*) FROM turns
                   WHERE created >= ? GROUP BY day ORDER BY day""",
                (low,),
            ).fetchall()
        return [(day, count) for day, count in rows]

    def schema_version(self) -> int:
        with self._errors("schema_version"):
            return int(self._connection().execute("PRAGMA user_version").fetchone()[0])

    def close(self) -> None:
        """Close this process's connections (call at shutdown, when no other thread uses the store)."""
        with self._lock:
            self._closed = True
            connections, self._connections = list(self._connections), weakref.WeakSet()
        for conn in connections:
            with suppress(sqlite3.Error):
                conn.close()

    def __enter__(self) -> ConversationStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ConversationStore({str(self.path)!r})"

    # --- connections and transactions -----------------------------------------------------------------

    def _prepare_folder(self) -> None:
        folder = self.path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConversationStoreError(
                f"conversation store {self.path}: cannot create the folder {folder}: {exc}"
            ) from exc
        if self.path.is_dir():
            raise ConversationStoreError(f"conversation store {self.path}: the path is a directory, not a file")
        if not os.access(folder, os.W_OK | os.X_OK):
            raise ConversationStoreError(
                f"conversation store {self.path}: the folder {folder} is not writable "
                "(SQLite creates the -wal and -shm files beside the database)"
            )

    def _connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use; a new one in a forked child)."""
        if self._closed:
            raise ConversationStoreError(f"conversation store {self.path}: the store is closed")
        pid = os.getpid()
        if self._pid != pid:
            # Forked: the parent's connections must be neither used nor closed here; keep them alive.
            with self._lock:
                if self._pid != pid:
                    self._inherited.extend(self._connections)
                    self._connections = weakref.WeakSet()
                    self._pid = pid
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == pid:
            return conn
        conn = self._open()
        self._local.conn, self._local.pid = conn, pid
        with self._lock:
            self._connections.add(conn)
        return conn

    def _open(self) -> _Connection:
        conn = sqlite3.connect(
            self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False, factory=_Connection
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise ConversationStoreError(
                    f"conversation store {self.path}: cannot switch to WAL journal mode (got {mode})"
                )
            conn.execute("PRAGMA foreign_keys = ON")
            # WAL + NORMAL: no fsync per commit; a power cut may lose the last commits, never corrupts the file.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA secure_delete = ON")
        except BaseException:
            conn.close()
            raise
        return conn

    def _migrate(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        conn.execute("BEGIN IMMEDIATE")
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]  # another process may have migrated
            if version > SCHEMA_VERSION:
                raise ConversationStoreError(
                    f"conversation store {self.path}: schema version {version} is newer than this code's "
                    f"{SCHEMA_VERSION}"
                )
            for step in MIGRATIONS[version:]:
                for statement in step:
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            _rollback(conn)
            raise

    @contextmanager
    def _errors(self, what: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise ConversationStoreError(
                f"conversation store {self.path}: {what} failed: {type(exc).__name__}: {exc}"
            ) from exc

    @contextmanager
    def _write(self, what: str) -> Iterator[sqlite3.Connection]:
        """One write transaction, taking the write lock at once (BEGIN IMMEDIATE: no read→write upgrade
        that could fail without waiting)."""
        with self._errors(what):
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                _rollback(conn)
                raise

    @contextmanager
    def _read(self, what: str) -> Iterator[sqlite3.Connection]:
        """One read transaction: its statements see one snapshot."""
        with self._errors(what):
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                _rollback(conn)

    def _checkpoint(self, mode: str) -> None:
        """Best effort: the deletion is committed whether or not the checkpoint gets through."""
        with suppress(sqlite3.Error, ConversationStoreError):
            self._connection().execute(f"PRAGMA wal_checkpoint({mode})").fetchall()

    def _check_conversation_id(self, conversation_id: str) -> None:
        if not is_valid_id(conversation_id):
            raise UnknownConversation("malformed conversation id")

    @staticmethod
    def _require_conversation(conn: sqlite3.Connection, conversation_id: str) -> None:
        if conn.execute("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
            raise UnknownConversation(f"no conversation {conversation_id}")

    def _now(self) -> str:
        return _iso(self._clock())


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
