"""`python -m eval.load [--seconds 60] [--clients 8] [--rounds 3] [--url URL]` — a bounded load test.

Starts ``python -m api`` on a free loopback port (unless ``--url`` names a server that is already running,
which must be on 127.0.0.1/localhost/::1), then runs ``--rounds`` rounds of ``--clients`` concurrent
clients (threads, one keep-alive httpx client each) sending a fixed, seeded mix of requests for
``--seconds`` seconds (or until ``--requests`` per round):

* 50 % ``POST /api/ask``: half from a fixed list (in-scope, numeric, traditional, full-width, English and
  out-of-scope questions), half generated from templates (region × months × wording, about 5 000 distinct
  questions) so the query-embedding cache does not answer everything,
* 20 % ``POST /api/search``, 20 % ``POST /api/calculate``,
* 10 % deliberately bad requests that must get their documented 4xx (empty question, ``top_k`` 0,
  unknown field, unknown calculation kind, invalid UTF-8).

Conversations and feedback come on top: every other client (0, 2, 4, …) spends ``CONVERSATION_SHARE`` of its
requests on conversations instead — it starts one (``POST /api/ask`` without ``conversation_id``), sends its
follow-ups (``那居民医保呢?``, ``要带什么材料?`` …) with the ``conversation_id`` the first answer returned, and rates
about half of the answers it got (``POST /api/feedback`` with the ``answer_id``, up or down and a short comment).
A turn must come back with an ``answer_id`` (and a follow-up in its own conversation), feedback with 200.
The server started here gets its own temporary conversation store (``YIBAO_CONVERSATIONS_DB``); a server
given with ``--url`` needs one too (or ``--no-conversations``).

A request is an error when it fails or gets any status other than the one expected. The rounds follow a
warm-up that is not counted (every request once, then a short round at full concurrency). After each round the
server's RSS (plus its children) is read; memory "grows" when the last round ends more than
``--max-growth-mb`` above the first. When it started the server itself, it finally sends an ID card and a
mobile number in a question, a URL path and a query string and checks that neither appears in the server's log.

Writes ``summary.json`` and ``summary.md`` to ``var/reports/<timestamp>-load/`` (or ``--out``) and exits
0 when there were no errors, no memory growth and no leaked personal numbers, 1 otherwise.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from ingest.settings import PROJECT_ROOT

ASK = [
    "医保断缴了怎么补缴?",
    "断缴3个月后补缴,多久能恢复报销?",
    "灵活就业人员医保断缴后如何补缴?",
    "职工医保和居民医保的保障对象有什么不同?",
    "嘉峪关居民医保2025年交多少钱?",
    "天津医保断交了怎么在网上补缴?",
    "缴费基数4340元、费率4%,每月交多少?",
    "缴费基数４３４０元，费率４％，每月交多少？",
    "醫保斷繳半年了怎麼辦?",
    "辞职了职工医保怎么办?",
    "断缴期间住院能报销吗?",
    "补缴后待遇等待期多长?",
    "How do I pay medical insurance after a gap?",
    "公积金断缴了怎么办?",
    "今天天气怎么样?",
    "已经缴了十八年职工医保,还差几年?",
]
SEARCH = ["补缴后待遇等待期", "微信 支付宝 补缴医保", "断缴 滞纳金", "灵活就业 缴费基数", "居民医保 缴费标准",
          "退休 缴费年限"]
CALCULATE = [
    {"kind": "monthly_contribution", "params": {"base": "4340元", "rate": "4%"}},
    {"kind": "monthly_contribution", "params": {"base": 6000, "rate": "8%", "months": 12}},
    {"kind": "back_payment", "params": {"months": 4, "wage": 8000, "rate": "10%"}},
]
# Templates for generated questions: {r} a region, {n} a number of months.
TEMPLATES = [
    "{r}医保断缴{n}个月了怎么补缴?",
    "在{r}断交{n}个月医保,补缴后多久能报销?",
    "{r}灵活就业医保停了{n}个月还能补吗?",
    "{r}居民医保断了{n}个月,住院能报销吗?",
    "{r}职工医保中断{n}个月会影响退休吗?",
    "{r}医保断缴{n}个月要交滞纳金吗?",
    "{r}的医保断缴{n}个月后怎么恢复参保?",
    "{r}医保欠费{n}个月,医保卡还能用吗?",
]
REGIONS = ("北京 上海 天津 重庆 广州 深圳 杭州 南京 苏州 武汉 成都 西安 长沙 郑州 济南 "
           "青岛 沈阳 大连 哈尔滨 长春 福州 厦门 南昌 合肥 昆明 贵阳 南宁 海口 "
           "兰州 嘉峪关 西宁 银川 乌鲁木齐 呼和浩特 拉萨 石家庄 太原").split()
BAD: list[tuple[str, Any, int]] = [
    ("/api/ask", {"question": ""}, 422),
    ("/api/ask", {"question": "医保断缴", "top_k": 0}, 422),
    ("/api/search", {"query": "医保", "unknown": 1}, 422),
    ("/api/calculate", {"kind": "no_such_kind", "params": {}}, 422),
    ("/api/ask", b'{"question": "\xff\xfe"}', 422),
]
# Conversations: a first question and its follow-ups (sent with the returned conversation_id).
DIALOGUES: list[tuple[str, tuple[str, ...]]] = [
    ("职工医保断缴3个月怎么补?", ("那居民医保呢?", "要带什么材料?")),
    ("灵活就业人员医保断缴后如何补缴?", ("在天津呢?", "补缴后多久能报销?")),
    ("嘉峪关居民医保2025年交多少钱?", ("那职工医保呢?", "断缴了怎么补?")),
    ("辞职了职工医保怎么办?", ("断了3个月还能补吗?", "补缴要交滞纳金吗?")),
    ("缴费基数4340元、费率4%,每月交多少?", ("费率改成8%呢?",)),
    ("断缴期间住院能报销吗?", ("那补缴以后呢?", "去哪里办?")),
]
COMMENTS = {"up": ("很清楚,谢谢", "有用", "材料列得很全"),
            "down": ("没说滞纳金怎么算", "和我们这里的规定不一样", "答非所问")}
CONVERSATION_SHARE = 0.4  # of a conversational client's requests
FEEDBACK_SHARE = 0.5  # of the answers a conversational client got
KINDS = ("ask", "search", "calculate", "bad", "turn", "followup", "feedback")

# 身份证号 and 手机号 that must never reach the server's log in clear.
PII_QUESTION = "我身份证号110101199003071234,手机13812345678,医保断缴3个月怎么补缴?"
PII_NUMBERS = ("110101199003071234", "13812345678")


@dataclass(frozen=True)
class Request:
    kind: str  # ask | search | calculate | bad
    path: str
    body: Any
    expect: int


def generated_question(rng: random.Random) -> str:
    return rng.choice(TEMPLATES).format(r=rng.choice(REGIONS), n=rng.randint(1, 24))


def request_mix() -> list[tuple[Request, int]]:
    """(request, weight): 50 % ask (half generated), 20 % search, 20 % calculate, 10 % bad input."""
    mix: list[tuple[Request, int]] = []
    mix += [(Request("ask", "/api/ask", {"question": q}, 200), 25 * 100 // len(ASK)) for q in ASK]
    mix += [(Request("ask", "/api/ask", {"question": "<generated>"}, 200), 25 * 100)]
    mix += [(Request("search", "/api/search", {"query": q, "top_k": 5}, 200), 20 * 100 // len(SEARCH)) for q in SEARCH]
    mix += [(Request("calculate", "/api/calculate", b, 200), 20 * 100 // len(CALCULATE)) for b in CALCULATE]
    mix += [(Request("bad", p, b, s), 10 * 100 // len(BAD)) for p, b, s in BAD]
    return mix


@dataclass
class Result:
    kind: str
    status: int | None
    ms: float
    error: str | None = None


@dataclass
class Round:
    number: int
    seconds: float = 0.0
    results: list[Result] = field(default_factory=list)
    rss_mb_start: float | None = None
    rss_mb_end: float | None = None


# --- the server -----------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_loopback(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    raise SystemExit(f"error: --url must point at a loopback address (127.0.0.1, ::1 or localhost), not {host!r}")


def start_server(log_path: Path, port: int | None = None, env: dict[str, str] | None = None,
                 log_level: str = "info", timeout: float = 300.0) -> tuple[subprocess.Popen, str]:
    """``python -m api`` on 127.0.0.1:<free port>, stdout+stderr to ``log_path``; waits for /api/health."""
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(log_path, "wb")  # noqa: SIM115 - closed by stop_server
    proc = subprocess.Popen([sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port),
                             "--log-level", log_level], cwd=PROJECT_ROOT, env=env or dict(os.environ),
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    proc.log_file = log  # type: ignore[attr-defined]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.close()
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
            raise RuntimeError(f"server exited with code {proc.returncode}:\n{tail}")
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    stop_server(proc)
    raise RuntimeError(f"server did not answer /api/health within {timeout:.0f}s")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on Ctrl+C
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(15)
    log = getattr(proc, "log_file", None)
    if log is not None:
        log.close()


def rss_mb(pid: int | None) -> float | None:
    if pid is None:
        return None
    import psutil

    try:
        proc = psutil.Process(pid)
        total = proc.memory_info().rss + sum(c.memory_info().rss for c in proc.children(recursive=True))
    except psutil.Error:
        return None
    return round(total / 2**20, 1)


def find_server_pid(url: str) -> int | None:
    import psutil

    port = urlsplit(url).port
    try:
        for conn in psutil.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
                return conn.pid
    except (psutil.Error, OSError):
        return None
    return None


# --- the clients ----------------------------------------------------------------------------------------

def _post(client: httpx.Client, req: Request) -> tuple[Result, dict[str, Any] | None]:
    """Send one request; the result (an error unless the status and body are as expected) and the JSON body."""
    t0 = time.perf_counter()
    try:
        if isinstance(req.body, bytes):
            r = client.post(req.path, content=req.body, headers={"Content-Type": "application/json"})
        else:
            r = client.post(req.path, json=req.body)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != req.expect:
            return Result(req.kind, r.status_code, ms, f"{req.path}: expected {req.expect}, got {r.status_code}"), None
        body = r.json()
        if req.expect == 200 and req.kind in ("ask", "turn", "followup") and "answer" not in body:
            return Result(req.kind, r.status_code, ms, f"{req.path}: no answer in body"), body
        if req.expect != 200 and not body.get("message"):
            return Result(req.kind, r.status_code, ms, f"{req.path}: error body without message"), body
        return Result(req.kind, r.status_code, ms), body
    except (httpx.HTTPError, ValueError) as exc:
        return Result(req.kind, None, (time.perf_counter() - t0) * 1000,
                      f"{req.path}: {type(exc).__name__}: {exc}"), None


def _send(client: httpx.Client, req: Request, rng: random.Random | None = None) -> Result:
    if req.body == {"question": "<generated>"}:
        req = Request(req.kind, req.path, {"question": generated_question(rng or random.Random())}, req.expect)
    return _post(client, req)[0]


class Conversations:
    """One client's conversations: start one, send its follow-ups with the returned ``conversation_id``, rate
    about ``FEEDBACK_SHARE`` of the answers (``answer_id``) with up or down and a short comment."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.conversation_id: str | None = None
        self.followups: list[str] = []
        self.to_rate: list[str] = []

    def next_request(self) -> Request:
        if self.to_rate and (self.rng.random() < 0.5 or not self.followups):
            answer_id = self.to_rate.pop(0)
            rating = self.rng.choice(("up", "down"))
            body = {"answer_id": answer_id, "rating": rating, "comment": self.rng.choice(COMMENTS[rating])}
            return Request("feedback", "/api/feedback", body, 200)
        if self.conversation_id and self.followups:
            body = {"question": self.followups.pop(0), "conversation_id": self.conversation_id}
            return Request("followup", "/api/ask", body, 200)
        first, rest = self.rng.choice(DIALOGUES)
        self.conversation_id, self.followups = None, list(rest)
        return Request("turn", "/api/ask", {"question": first}, 200)

    def step(self, client: httpx.Client) -> Result:
        req = self.next_request()
        result, body = _post(client, req)
        if result.error or body is None:
            if req.kind != "feedback":  # a failed turn ends the conversation
                self.conversation_id, self.followups = None, []
            return result
        if req.kind == "feedback":
            if body.get("answer_id") != req.body["answer_id"] or body.get("stored") is not True:
                result.error = f"{req.path}: feedback not stored: {str(body)[:120]}"
            return result
        answer_id, cid = body.get("answer_id"), body.get("conversation_id")
        if not answer_id or not cid:
            result.error = f"{req.path}: a conversation turn without answer_id/conversation_id"
            self.conversation_id, self.followups = None, []
            return result
        if req.kind == "followup" and cid != req.body["conversation_id"]:
            result.error = f"{req.path}: follow-up answered in another conversation"
        self.conversation_id = cid
        if self.rng.random() < FEEDBACK_SHARE:
            self.to_rate.append(answer_id)
        return result


def run_round(url: str, number: int, clients: int, seconds: float, max_requests: int | None, seed: int,
              pid: int | None, timeout: float = 60.0, conversations: bool = True) -> Round:
    mix = request_mix()
    population, weights = [r for r, _ in mix], [w for _, w in mix]
    rnd = Round(number, rss_mb_start=rss_mb(pid))
    lock = threading.Lock()
    budget = [max_requests if max_requests else -1]

    def take() -> bool:
        with lock:
            if budget[0] == 0:
                return False
            budget[0] -= 1
            return True

    def client_loop(i: int) -> None:
        rng = random.Random(seed * 1000 + number * 100 + i)
        talk = Conversations(random.Random(seed * 1000 + number * 100 + i + 50)) if conversations and i % 2 == 0 \
            else None
        out: list[Result] = []
        with httpx.Client(base_url=url, timeout=timeout) as client:
            while time.monotonic() < deadline and take():
                if talk is not None and rng.random() < CONVERSATION_SHARE:
                    out.append(talk.step(client))
                else:
                    out.append(_send(client, rng.choices(population, weights)[0], rng))
        with lock:
            rnd.results.extend(out)

    t0 = time.monotonic()
    deadline = t0 + seconds
    threads = [threading.Thread(target=client_loop, args=(i,), name=f"load-{i}") for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + timeout + 30)
    rnd.seconds = round(time.monotonic() - t0, 2)
    rnd.rss_mb_end = rss_mb(pid)
    return rnd


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    s = sorted(values)
    return round(s[min(len(s) - 1, max(0, int(round(q * (len(s) - 1)))))], 1)


def round_summary(rnd: Round) -> dict[str, Any]:
    ok_ms = [r.ms for r in rnd.results]
    by_kind: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        ms = [r.ms for r in rnd.results if r.kind == kind]
        by_kind[kind] = {"requests": len(ms), "errors": sum(1 for r in rnd.results if r.kind == kind and r.error),
                         "p50_ms": _pct(ms, 0.50), "p95_ms": _pct(ms, 0.95)}
    statuses: dict[str, int] = {}
    for r in rnd.results:
        statuses[str(r.status)] = statuses.get(str(r.status), 0) + 1
    errors = [r.error for r in rnd.results if r.error]
    return {
        "round": rnd.number, "seconds": rnd.seconds, "requests": len(rnd.results), "errors": len(errors),
        "rps": round(len(rnd.results) / rnd.seconds, 2) if rnd.seconds else None,
        "p50_ms": _pct(ok_ms, 0.50), "p95_ms": _pct(ok_ms, 0.95), "p99_ms": _pct(ok_ms, 0.99),
        "max_ms": _pct(ok_ms, 1.0), "rss_mb_start": rnd.rss_mb_start, "rss_mb_end": rnd.rss_mb_end,
        "statuses": statuses, "by_kind": by_kind, "first_errors": errors[:10],
        "conversation_turns": sum(1 for r in rnd.results if r.kind in ("turn", "followup") and not r.error),
        "feedback": sum(1 for r in rnd.results if r.kind == "feedback" and not r.error),
    }


def pii_check(url: str, log_path: Path) -> dict[str, Any]:
    """Send an ID and a phone number in a question, a URL path and a query string; neither may appear in the
    server's log. Returns the status of the question and the numbers found in the log."""
    httpx.get(f"{url}/api/documents/{PII_NUMBERS[0]}", timeout=60)  # a mistyped link: 404, but logged
    httpx.get(f"{url}/", params={"phone": PII_NUMBERS[1]}, timeout=60)
    r = httpx.post(f"{url}/api/ask", json={"question": PII_QUESTION}, timeout=60)
    time.sleep(0.5)  # let the server flush its log
    text = log_path.read_text(encoding="utf-8", errors="replace")
    leaked = [n for n in PII_NUMBERS if n in text]
    return {"status": r.status_code, "leaked": leaked, "log_bytes": len(text.encode())}


# --- the whole run --------------------------------------------------------------------------------------

def run(url: str, *, clients: int, seconds: float, rounds: int, max_requests: int | None = None, seed: int = 8,
        pid: int | None = None, max_growth_mb: float = 40.0, log: Any = print, conversations: bool = True
        ) -> dict[str, Any]:
    # Warm-up (not counted): every request once, so the first round does not pay for lazy loading.
    with httpx.Client(base_url=url, timeout=120) as client:
        for req, _ in request_mix():
            _send(client, req)
        if conversations:
            talk = Conversations(random.Random(seed))
            for _ in range(4):
                talk.step(client)
    # …then a round at full concurrency (not counted either). RSS is a high-water mark of the answers in
    # flight at once: measured here, the first 2.5 s of 8 clients raised it ~110 MB, each later 2.5 s round
    # ~1 MB; without this, a slower machine was still climbing to that mark in round 2 (CI: +56 MB).
    run_round(url, 0, clients, max(3.0, min(seconds, 10.0)), None, seed + 1, None, conversations=conversations)
    summaries = []
    for n in range(1, rounds + 1):
        s = round_summary(run_round(url, n, clients, seconds, max_requests, seed, pid, conversations=conversations))
        summaries.append(s)
        log(f"round {n}: {s['requests']} requests, {s['errors']} errors, {s['rps']} req/s, "
            f"p50 {s['p50_ms']} ms, p95 {s['p95_ms']} ms, RSS {s['rss_mb_start']} → {s['rss_mb_end']} MB; "
            f"{s['conversation_turns']} conversation turns, {s['feedback']} feedback posts")
    ends = [s["rss_mb_end"] for s in summaries if s["rss_mb_end"] is not None]
    growth = round(ends[-1] - ends[0], 1) if len(ends) >= 2 else None
    # Bounded caches (1024 query vectors, 4096 tokenised texts) fill first; a leak keeps growing in the last round.
    tail = summaries[-1]
    last = (round(tail["rss_mb_end"] - tail["rss_mb_start"], 1)
            if tail["rss_mb_end"] is not None and tail["rss_mb_start"] is not None else None)
    errors = sum(s["errors"] for s in summaries)
    return {
        "config": {"url": url, "clients": clients, "seconds": seconds, "rounds": rounds, "max_requests": max_requests,
                   "seed": seed, "max_growth_mb": max_growth_mb, "conversations": conversations},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "loadavg": [round(x, 2) for x in os.getloadavg()]},
        "rounds": summaries,
        "total": {"requests": sum(s["requests"] for s in summaries), "errors": errors,
                  "rss_growth_mb": growth, "last_round_growth_mb": last,
                  "conversation_turns": sum(s["conversation_turns"] for s in summaries),
                  "conversations_started": sum(s["by_kind"]["turn"]["requests"] - s["by_kind"]["turn"]["errors"]
                                               for s in summaries),
                  "followups": sum(s["by_kind"]["followup"]["requests"] - s["by_kind"]["followup"]["errors"]
                                   for s in summaries),
                  "feedback": sum(s["feedback"] for s in summaries)},
        "ok": errors == 0 and (growth is None or growth <= max_growth_mb),
    }


def markdown(summary: dict[str, Any]) -> str:
    from .report import table

    c = summary["config"]
    lines = [f"# Load test — {c['clients']} clients × {c['seconds']:g} s × {c['rounds']} rounds\n\n",
             f"Server: `{c['url']}`; machine: {summary['machine']['cpus']} CPUs, load average "
             f"{summary['machine']['loadavg']} at the end. Mix: 50 % ask, 20 % search, 20 % calculate, "
             "10 % bad input (must get its 4xx)"
             + (f"; every other client spends {CONVERSATION_SHARE:.0%} of its requests on conversations (`turn` "
                "starts one, `followup` continues it with its conversation_id) and rates about half of those answers "
                "(`feedback`)" if c.get("conversations") else "") + ".\n\n",
             table(summary["rounds"], ["round", "requests", "errors", "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms",
                                       "rss_mb_start", "rss_mb_end", "conversation_turns", "feedback"]),
             "\n## Per kind\n\n"]
    rows = [{"round": s["round"], "kind": k, **v} for s in summary["rounds"] for k, v in s["by_kind"].items()]
    lines.append(table(rows, ["round", "kind", "requests", "errors", "p50_ms", "p95_ms"]))
    t = summary["total"]
    lines.append(f"\n**Total:** {t['requests']} requests, {t['errors']} errors; RSS growth first → last round: "
                 f"{t['rss_growth_mb']} MB (limit {c['max_growth_mb']} MB), during the last round: "
                 f"{t.get('last_round_growth_mb')} MB.\n")
    if c.get("conversations"):
        lines.append(f"\n**Conversations:** {t.get('conversation_turns', 0)} conversation turns "
                     f"({t.get('conversations_started', 0)} conversations started, {t.get('followups', 0)} follow-ups "
                     f"with a conversation_id) and {t.get('feedback', 0)} feedback posts, all without error "
                     f"unless counted above.\n")
    if "pii" in summary:
        p = summary["pii"]
        lines.append(f"\n**Personal numbers in the server log:** {p['leaked'] or 'none'} "
                     f"(身份证号 and 手机号 sent in a question, a URL path and a query; ask status {p['status']}).\n")
    lines.append(f"\n**Result:** {'PASS' if summary['ok'] else 'FAIL'}\n")
    errors = [e for s in summary["rounds"] for e in s["first_errors"]]
    if errors:
        lines.append("\n## First errors\n\n" + "".join(f"- {e}\n" for e in errors[:20]))
    return "".join(lines)


def write_report(summary: dict[str, Any], out: Path | None) -> Path:
    if out is None:
        from .report import report_dir

        out = report_dir("load")
    out.mkdir(parents=True, exist_ok=True)
    (out / "summary.json").write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    (out / "summary.md").write_text(markdown(summary), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.load", description="Bounded load test on loopback.")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each round (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (default: %(default)s)")
    parser.add_argument("--requests", type=int, default=0, help="at most this many requests per round (0: no cap)")
    parser.add_argument("--url", help="a running server on loopback (default: start python -m api on a free port)")
    parser.add_argument("--pid", type=int, help="server process id for RSS with --url (default: found by port)")
    parser.add_argument("--max-growth-mb", type=float, default=40.0,
                        help="RSS may grow at most this much from the first to the last round (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=8)
    parser.add_argument("--no-conversations", action="store_true",
                        help="no conversation turns or feedback (for a --url server without a conversation store)")
    parser.add_argument("--out", type=Path, help="report folder (default: var/reports/<timestamp>-load)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--clients and --rounds must be at least 1 and --seconds positive")

    out = args.out
    proc = None
    log_path: Path | None = None
    scratch: Path | None = None
    if args.url:
        check_loopback(args.url)
        url, pid = args.url.rstrip("/"), args.pid or find_server_pid(args.url)
    else:
        if out is None:
            from .report import report_dir

            out = report_dir("load")
        out.mkdir(parents=True, exist_ok=True)
        log_path = out / "server.log"
        print("starting python -m api on 127.0.0.1 …", flush=True)
        # A conversation store of the run's own (not var/conversations.sqlite), removed afterwards.
        scratch = Path(tempfile.mkdtemp(prefix="yibao-load-"))
        env = {**os.environ, "YIBAO_CONVERSATIONS_DB": str(scratch / "conversations.sqlite")}
        try:
            proc, url = start_server(log_path, env=env)
        except RuntimeError as exc:
            shutil.rmtree(scratch, ignore_errors=True)
            print(f"error: {exc}", file=sys.stderr)
            return 1
        pid = proc.pid
    try:
        summary = run(url, clients=args.clients, seconds=args.seconds, rounds=args.rounds,
                      max_requests=args.requests or None, seed=args.seed, pid=pid, max_growth_mb=args.max_growth_mb,
                      conversations=not args.no_conversations)
        if proc is not None and log_path is not None:
            summary["pii"] = pii_check(url, log_path)
            summary["ok"] = summary["ok"] and not summary["pii"]["leaked"]
    finally:
        if proc is not None:
            stop_server(proc)
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    folder = write_report(summary, out)
    t = summary["total"]
    print(f"{'PASS' if summary['ok'] else 'FAIL'}: {t['requests']} requests, {t['errors']} errors, "
          f"{t['conversation_turns']} conversation turns, {t['feedback']} feedback posts, "
          f"RSS growth {t['rss_growth_mb']} MB; report: {folder}/summary.md")
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
