"""Privacy and security through the real app (in process) and the real index.

* personal numbers typed into questions (身份证号, 手机号, 社保卡/银行卡号) reach no log record, no captured
  output and no file unless question storage is explicitly configured (then masked; the real server's log
  and questions file are checked in test_load.py);
* documents are served from memory by id only: no path, encoding trick or planted file escapes the index
  folder, and the index loader itself reads nothing outside it;
* no response carries a stack trace, a file path or the index location;
* CORS is closed unless configured; every POST route has a body-size limit;
* the page and /docs send the security headers, and their HTML has no inline script, no ``on*=`` handler,
  no ``javascript:`` URL and only same-origin assets (checked with an HTML parser, not regexes);
* nothing can change state: the only POST routes are ask/search/calculate, and there is no PUT/PATCH/DELETE
  in the routes or the OpenAPI schema.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest import store
from ingest.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow

ID_NUMBER, PHONE, CARD = "110101199003071234", "13812345678", "6222020012345678901"
PII = (ID_NUMBER, PHONE, CARD)
PII_QUESTION = f"我身份证号{ID_NUMBER},手机{PHONE},社保卡{CARD},医保断缴3个月怎么补缴?"
# What anyone may send (a conversation is deleted by whoever knows its unguessable id) …
PUBLIC_MUTATIONS = {("POST", "/api/ask"), ("POST", "/api/search"), ("POST", "/api/calculate"),
                    ("POST", "/api/feedback"), ("DELETE", "/api/conversations/{conversation_id}")}
# … and what only the admin token may (the knowledge base).
ADMIN_MUTATIONS = {("POST", "/api/documents"), ("PUT", "/api/documents/{doc_id}"),
                   ("DELETE", "/api/documents/{doc_id}"), ("POST", "/api/faq"), ("POST", "/api/faq/pairs"),
                   ("POST", "/api/faq/{pair_id}/similar"), ("PUT", "/api/faq/{pair_id}"),
                   ("DELETE", "/api/faq/{pair_id}")}


@pytest.fixture(scope="module")
def service(qa_service):
    return qa_service


@pytest.fixture(scope="module")
def app(service, test_settings: Settings, tmp_path_factory: pytest.TempPathFactory):
    from api.app import create_app

    log_file = tmp_path_factory.mktemp("privacy") / "questions.jsonl"
    settings = test_settings.model_copy(update={"questions_log": log_file})
    assert settings.store_questions is False  # the default
    return create_app(settings, service=service)


@pytest.fixture(scope="module")
def client(app):
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


# --- personal data ----------------------------------------------------------------------------------------

def _pii_requests(client: TestClient) -> list:
    calc = {"kind": "monthly_contribution", "params": {"base": ID_NUMBER, "rate": PHONE}}
    return [
        client.post("/api/ask", json={"question": PII_QUESTION}),
        client.post("/api/search", json={"query": PII_QUESTION}),
        client.post("/api/calculate", json=calc),
        client.post("/api/calculate", json={"kind": ID_NUMBER, "params": {PHONE: CARD}}),
        client.post("/api/ask", json={"question": PII_QUESTION, "top_k": 0}),  # 422
        client.post("/api/ask", json={"question": PII_QUESTION * 30}),  # 422, too long
        client.post("/api/ask", json={"question": PII_QUESTION, ID_NUMBER: PHONE}),  # 422, unknown field
        client.get(f"/api/documents/{ID_NUMBER}"),  # 404
        client.get(f"/?phone={PHONE}"),
    ]


def test_personal_numbers_reach_no_log_and_no_output(client: TestClient, caplog: pytest.LogCaptureFixture,
                                                     capfd: pytest.CaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("yibao", "yibao.api", "uvicorn", "uvicorn.access", "uvicorn.error", "fastapi"):
        caplog.set_level(logging.DEBUG, logger=name)
    responses = _pii_requests(client)
    assert [r.status_code for r in responses][:2] == [200, 200]
    assert all(r.status_code < 500 for r in responses), [r.status_code for r in responses]
    out, err = capfd.readouterr()
    client_side = ("httpx", "httpx2", "httpcore")  # the test client logging its own URLs is not the server
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
                       if not r.name.startswith(client_side))
    for number in PII:
        assert number not in logged, f"{number} logged: {logged[:500]}"
        assert number not in out and number not in err


def test_error_responses_do_not_echo_personal_numbers(client: TestClient) -> None:
    # (a calculation kind is echoed on purpose, cut to 64 characters; an unknown field name is echoed
    # through api.errors.safe_name, which masks personal numbers: "unknown field 'qustion'")
    rs = _pii_requests(client)
    for r in (rs[4], rs[5], rs[6], rs[7]):
        assert 400 <= r.status_code < 500
        for number in PII:
            assert number not in r.text, (r.status_code, r.text[:300])


def test_nothing_is_stored_unless_configured(client: TestClient, app, test_settings: Settings,
                                             built_index: Path) -> None:
    _pii_requests(client)
    assert app.question_log is None
    assert not app.settings.questions_log.exists()
    for folder in (built_index.resolve(), Path(test_settings.cache_dir), app.settings.questions_log.parent):
        for f in folder.rglob("*"):
            if f.is_file():
                data = f.read_bytes()
                for number in PII:
                    assert number.encode() not in data, f"{number} written to {f}"


def test_stored_questions_are_masked_when_configured(service, test_settings: Settings, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from api.app import create_app

    caplog.set_level(logging.DEBUG)
    log_file = tmp_path / "q.jsonl"
    settings = test_settings.model_copy(update={"store_questions": True, "questions_log": log_file})
    with TestClient(create_app(settings, service=service)) as c:
        assert c.post("/api/ask", json={"question": PII_QUESTION}).status_code == 200
        assert c.post("/api/ask", json={"question": "医保断缴 138 1234 5678 / 6222-0200-1234-5678-901"}).status_code \
            == 200
    stored = log_file.read_text(encoding="utf-8")
    assert stored.count("\n") == 2
    for text in (stored, caplog.text):
        for number in (*PII, "138 1234 5678", "6222-0200-1234-5678-901"):
            assert number not in text
    assert "[身份证号]" in stored and "[手机号]" in stored and "[卡号]" in stored


# --- documents and file access ----------------------------------------------------------------------------

TRAVERSALS = [
    "..", "...", "%2e%2e", "%2e%2e%2fmanifest.json", "..%2f..%2f..%2fetc%2fpasswd", "%252e%252e%252f",
    "..%5cmanifest.json", "manifest.json", "chunks.jsonl", "dense.faiss", "bm25", ".index.versions", "%00",
    "000_991f4531c80f9026%00.txt", "000_991f4531c80f9026.txt", "000_991f4531c80f9026%2f..%2fmanifest.json",
    "~root", "%c0%ae%c0%ae%c0%af", "\u2025", "%ef%bc%8e%ef%bc%8e",
]


@pytest.mark.parametrize("doc_id", TRAVERSALS)
def test_document_ids_cannot_escape(client: TestClient, doc_id: str) -> None:
    r = client.get(f"/api/documents/{doc_id}")
    assert r.status_code == 404, (doc_id, r.status_code, r.text[:200])
    assert "root:" not in r.text and "index_hash" not in r.text and "doc_id" not in r.text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc_id=st.lists(st.sampled_from([*"./\\%2e5cf0_-~:abcx019", "%2f", "%2e", "%00", "..", "%5c"]),
                      min_size=1, max_size=20).map("".join))
def test_document_route_fuzz_serves_only_corpus_documents(client: TestClient, service, doc_id: str) -> None:
    r = client.get(f"/api/documents/{doc_id}")
    assert r.status_code in (200, 404, 405), (doc_id, r.status_code)
    if r.status_code == 200:  # a corpus document, or the list when the path collapses to /api/documents
        body = r.json()
        if "documents" in body:
            assert {d["doc_id"] for d in body["documents"]} == set(service.data.documents)
        else:
            assert body["text"] == service.document(body["doc_id"])["text"]


@pytest.mark.parametrize(
    "path",
    ["/static/../app.py", "/static/..%2fapp.py", "/static/%2e%2e/app.py",
     "/static/%2e%2e%2f%2e%2e%2fingest/settings.py", "/static/....//app.py", "/static//etc/passwd",
     "/static/%2fetc%2fpasswd", "/docs-static/../../../etc/passwd", "/docs-static/..%2f..%2f..%2fetc%2fpasswd",
     "/static/index.html%00.js", "/..%2f..%2fetc%2fpasswd"],
)
def test_static_files_cannot_escape(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code in (404, 400, 405), (path, r.status_code)
    assert "root:" not in r.text and "import" not in r.text


def test_documents_come_from_memory_not_from_disk(client: TestClient, service, built_index: Path) -> None:
    """A file planted next to the index (or a document deleted from it) changes nothing that is served."""
    doc_id = sorted(service.data.documents)[0]
    planted = built_index.resolve() / "planted-doc"
    planted.write_text("secret", encoding="utf-8")
    try:
        assert client.get("/api/documents/planted-doc").status_code == 404
        assert client.get(f"/api/documents/{doc_id}").json()["text"] == service.data.documents[doc_id]["text"]
    finally:
        planted.unlink()


def test_index_loader_reads_nothing_outside_the_index(built_index: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A tampered manifest naming ``../`` paths must be refused before anything outside is read."""
    outside = tmp_path / "outside-secret.txt"
    outside.write_text("secret", encoding="utf-8")
    copy = tmp_path / "index"
    shutil.copytree(built_index.resolve(), copy)
    manifest = json.loads((copy / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"][os.path.relpath(outside, copy)] = "0" * 64
    (copy / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    opened: list[Path] = []
    real_sha256 = store._sha256

    def spy(path: Path) -> str:
        opened.append(Path(path).resolve())
        return real_sha256(path)

    monkeypatch.setattr(store, "_sha256", spy)
    with pytest.raises(store.IndexLoadError) as info:
        store.load_index(copy)
    assert outside.resolve() not in opened, f"the loader read a file outside the index: {info.value}"
    assert all(p.is_relative_to(copy.resolve()) for p in opened)
    assert "manifest.json" in str(info.value) and "outside" in str(info.value)


# --- no stack traces, paths or internals in responses -------------------------------------------------------

def test_no_traces_or_paths_in_any_response(client: TestClient, built_index: Path) -> None:
    needles = ["Traceback", 'File "', "site-packages", str(PROJECT_ROOT), str(built_index.resolve()),
               str(built_index), "/tmp/", "/root/", "IndexLoadError", "Exception"]
    responses = [
        client.get("/api/health"), client.get("/api/documents"), client.get("/api/calculate/kinds"),
        client.get("/openapi.json"), client.get("/nope"), client.get("/api/ask"), client.delete("/api/ask"),
        client.post("/api/ask", content=b"{", headers={"Content-Type": "application/json"}),
        client.post("/api/ask", content=b"\xff", headers={"Content-Type": "application/json"}),
        client.post("/api/ask", json={"question": "x" * 600}),
        client.post("/api/calculate", json={"kind": "benefit_dates", "params": {"payment_month": "13月"}}),
        client.post("/api/calculate", json={"kind": "late_fee", "params": {"days": "-1", "owed": "abc"}}),
        client.post("/api/ask", content=b"0" * 20000, headers={"Content-Type": "application/json"}),
        client.get("/api/documents/%2e%2e%2f%2e%2e%2fmanifest.json"),
    ]
    for r in responses:
        for needle in needles:
            assert needle not in r.text, (r.request.url, r.status_code, needle)
        assert "server" not in {k.lower() for k in r.headers} or "uvicorn" not in r.headers.get("server", "")


# --- CORS and body size -------------------------------------------------------------------------------------

@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:8000", "http://localhost"])
def test_cors_closed_by_default(client: TestClient, origin: str) -> None:
    pre = {"Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
    for r in (client.options("/api/ask", headers=pre), client.post("/api/ask", json={"question": "医保"},
                                                                   headers={"Origin": origin})):
        assert not any(k.lower().startswith("access-control-") for k in r.headers), dict(r.headers)


def test_cors_is_configurable_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YIBAO_CORS_ORIGINS", '["https://ok.example"]')
    assert Settings().cors_origins == ["https://ok.example"]
    monkeypatch.delenv("YIBAO_CORS_ORIGINS")
    assert Settings().cors_origins == []


@pytest.mark.parametrize("path", sorted(p for m, p in PUBLIC_MUTATIONS if m == "POST"))
def test_every_post_route_has_a_body_limit(client: TestClient, test_settings: Settings, path: str) -> None:
    big = b'{"x": "' + b"a" * (test_settings.max_body_bytes + 1) + b'"}'
    r = client.post(path, content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"


def test_declared_length_over_the_limit_is_refused_before_reading(client: TestClient) -> None:
    r = client.post("/api/ask", content=b'{"question": "x"}',
                    headers={"Content-Type": "application/json", "Content-Length": str(10**12)})
    assert r.status_code == 413


# --- the page: headers and no inline code ------------------------------------------------------------------

class _PageAudit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.assets: list[str] = []
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for name, value in attrs:
            if name.lower().startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline handler")
            if name.lower() == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if value and value.strip().lower().startswith(("javascript:", "data:text/html", "vbscript:")):
                self.problems.append(f"<{tag} {name}={value[:30]}> script URL")
        if tag == "script":
            if not a.get("src"):
                self.problems.append("<script> without src")
            self._in = "script"
        elif tag == "style":
            self._in = "style"
        for name in ("src", "href"):
            url = a.get(name)
            if url and tag in ("script", "link", "img", "iframe", "embed", "object", "source"):
                if url.startswith("/") and not url.startswith("//"):
                    self.assets.append(url)
                else:
                    self.problems.append(f"<{tag} {name}={url}> not a same-origin asset")
        if tag in ("iframe", "object", "embed", "base"):
            self.problems.append(f"<{tag}> element")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._in = None

    def handle_data(self, data: str) -> None:
        if self._in and data.strip():
            self.problems.append(f"inline <{self._in}> body: {data.strip()[:40]}")


@pytest.mark.parametrize("path", ["/", "/docs"])
def test_page_has_no_inline_code_and_same_origin_assets(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    audit = _PageAudit()
    audit.feed(r.text)
    problems = [p for p in audit.problems if not (path == "/docs" and "inline style" in p)]
    assert not problems, problems
    assert audit.assets
    for url in audit.assets:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["x-content-type-options"] == "nosniff"
        if url.endswith(".js"):
            assert "javascript" in asset.headers["content-type"], url


@pytest.mark.parametrize("path", ["/", "/docs", "/static/style.css", "/api/health", "/nope", "/openapi.json"])
def test_security_headers(client: TestClient, path: str) -> None:
    h = client.get(path).headers
    csp = {d.strip().split(" ", 1)[0]: d.strip() for d in h["content-security-policy"].split(";") if d.strip()}
    assert csp["default-src"] == "default-src 'self'"
    assert csp["script-src"] == "script-src 'self'"  # no 'unsafe-inline', no 'unsafe-eval', no CDN
    assert csp["object-src"] == "object-src 'none'" and csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert "base-uri" in csp
    assert h["x-content-type-options"] == "nosniff" and h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"


# --- nothing changes state ----------------------------------------------------------------------------------

def _mutations(app) -> set[tuple[str, str]]:
    return {(m, route.path) for route in app.routes
            for m in (getattr(route, "methods", None) or set()) & {"POST", "PUT", "PATCH", "DELETE"}}


def test_anyone_may_only_ask_search_calculate_rate_and_delete_a_known_conversation(app) -> None:
    public = _mutations(app) - ADMIN_MUTATIONS
    assert public == PUBLIC_MUTATIONS
    spec = app.openapi()
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    assert {o for o in ops if o[0] in ("POST", "PUT", "PATCH", "DELETE")} == PUBLIC_MUTATIONS | ADMIN_MUTATIONS


def test_every_other_change_needs_the_admin_token(app, client: TestClient) -> None:
    assert app.settings.admin_token is None  # the default: the admin API is off
    for method, path in sorted(_mutations(app) - PUBLIC_MUTATIONS):
        url = re.sub(r"\{[a-z_]+\}", "000_991f4531c80f9026", path)
        r = client.request(method, url, json={"question": "x"})
        assert r.status_code == 403 and r.json()["error"] == "admin_disabled", (method, path, r.status_code)
    for method, path in [("GET", "/api/insights"), ("GET", "/api/insights.csv"),
                         ("GET", "/api/conversations/abcdefghijklmnopqrstuvwx")]:
        r = client.request(method, path)
        assert r.status_code == 403, (method, path, r.status_code)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "TRACE"])
def test_mutating_methods_are_refused_everywhere_else(client: TestClient, method: str) -> None:
    for path in ["/", "/api/ask", "/api/search", "/api/calculate", "/api/feedback", "/api/health",
                 "/static/style.css", "/openapi.json", "/kb", "/kb/insights"]:
        r = client.request(method, path, json={"question": "x"})
        assert r.status_code in (404, 405), (method, path, r.status_code)
