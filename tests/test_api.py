"""The HTTP API through the real app, the real QA service and a real index (built once per session)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import DOC_ID, create_app, startup_message
from api.middleware import CSP
from api.privacy import CARD_MASK, ID_MASK, PHONE_MASK, mask_pii
from ingest.settings import PROJECT_ROOT, Settings

pytestmark = pytest.mark.slow

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def client(built_index: Path, test_settings: Settings):
    app = create_app(test_settings)
    with TestClient(app) as c:  # runs the lifespan: loads QAService from test_settings.index_dir
        yield c


@pytest.fixture(scope="module")
def service(client: TestClient):
    return client.app.service


def assert_error(response, status: int, error: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error", "message", "message_zh", "message_en", "detail"}
    assert body["error"] == error
    assert body["message"] == f"{body['message_zh']} / {body['message_en']}"
    assert re.search(r"[\u4e00-\u9fff]", body["message_zh"]), body
    assert_no_leak(response.text)
    if field is not None:
        assert body["detail"], body
        assert body["detail"][0]["field"] == field, body
    return body


def assert_no_leak(text: str) -> None:
    for needle in ("Traceback", "File \"", ".py", "/work/", str(PROJECT_ROOT), "site-packages"):
        assert needle not in text, f"{needle!r} leaked in {text[:300]}"


# --- happy paths ----------------------------------------------------------------------------------------

def test_health(client: TestClient, built_index: Path) -> None:
    r = client.get("/api/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok"
    assert body["documents"] == 5
    assert body["chunks"] > 5
    manifest = json.loads((built_index / "manifest.json").read_text(encoding="utf-8"))
    assert body["index_hash"] == manifest["index_hash"]
    assert body["model"] == manifest["model"]


def test_ask_answers_with_citations_that_point_into_documents(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "断缴3个月后补缴,多久能恢复报销?"})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert set(answer) >= {"question", "answer", "refused", "citations", "calculation", "conflict", "timings_ms"}
    assert answer["refused"] is False
    assert answer["citations"], answer
    assert "[1]" in answer["answer"]
    docs: dict[str, str] = {}
    for c in answer["citations"]:
        assert set(c) >= {"n", "doc_id", "title", "chunk_id", "text", "start", "end", "score", "highlights",
                          "region", "date"}
        if c["doc_id"] not in docs:
            docs[c["doc_id"]] = client.get(f"/api/documents/{c['doc_id']}").json()["text"]
        text = docs[c["doc_id"]]
        assert text[c["start"]:c["end"]] == c["text"]
        for start, end in c["highlights"]:
            assert c["start"] <= start < end <= c["end"]
        assert isinstance(c["region"], list)


def test_ask_calculation(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "缴费基数4340元、费率4%,每月交多少?", "top_k": 5})
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["refused"] is False
    calc = answer["calculation"]
    assert calc["kind"] == "monthly_contribution"
    assert calc["result"] == pytest.approx(173.6)
    assert calc["inputs"] == {"base": 4340.0, "rate": 0.04}
    assert calc["sources"] and all(any(c["n"] == n for c in answer["citations"]) for n in calc["sources"])


def test_ask_refuses_out_of_scope_question(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "公积金断缴了怎么办?"})
    assert r.status_code == 200
    answer = r.json()
    assert answer["refused"] is True
    assert answer["citations"] == []
    assert answer["answer"]


def test_ask_trims_and_accepts_limits(client: TestClient) -> None:
    question = "医保断缴" + "怎么补缴" * 124  # 500 characters
    assert len(question) == 500
    r = client.post("/api/ask", json={"question": f"  \n{question}\u3000 ", "top_k": 20})
    assert r.status_code == 200, r.text
    r = client.post("/api/ask", json={"question": "医保断缴了怎么补缴?", "top_k": 1})
    assert r.status_code == 200, r.text
    assert r.json()["question"].strip() == "医保断缴了怎么补缴?"


def test_search(client: TestClient) -> None:
    r = client.post("/api/search", json={"query": "补缴后待遇等待期", "top_k": 3})
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert 1 <= len(hits) <= 3
    assert set(hits[0]) >= {"doc_id", "chunk_id", "title", "text", "start", "end", "score"}
    r = client.post("/api/search", json={"query": "微信补缴医保"})
    assert r.status_code == 200
    assert len(r.json()["hits"]) <= 10


def test_calculate(client: TestClient) -> None:
    r = client.post("/api/calculate", json={"kind": "monthly_contribution", "params": {"base": "4340元", "rate": "4%"}})
    assert r.status_code == 200, r.text
    calc = r.json()
    assert calc["result"] == pytest.approx(173.6)
    assert calc["unit"] == "元/月"
    assert "4340" in calc["formula"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "monthly_contribution", "params": {"base": "abc", "rate": "4%"}}, "base"),
        ({"kind": "monthly_contribution", "params": {"rate": "4%"}}, "base"),
        ({"kind": "monthly_contribution", "params": {"base": 4340, "rate": 0.04, "zzz": 1}}, "zzz"),
        ({"kind": "no_such_kind", "params": {}}, "kind"),
        ({"kind": "", "params": {}}, "kind"),
        ({"kind": "monthly_contribution", "params": [1, 2]}, "params"),
        ({"kind": 3, "params": {}}, "kind"),
        ({"params": {}}, "kind"),
        ({"kind": "monthly_contribution", "params": {}, "extra": 1}, "extra"),
    ],
)
def test_calculate_rejects_bad_input_naming_the_parameter(client: TestClient, body: dict, field: str) -> None:
    r = client.post("/api/calculate", json=body)
    assert_error(r, 422, "invalid_request", field)


def test_calc_kinds(client: TestClient) -> None:
    r = client.get("/api/calculate/kinds")
    assert r.status_code == 200
    kinds = r.json()
    assert "monthly_contribution" in kinds
    assert kinds["monthly_contribution"]["label_zh"]


def test_documents(client: TestClient) -> None:
    r = client.get("/api/documents")
    assert r.status_code == 200
    docs = r.json()["documents"]
    assert len(docs) == 5
    for d in docs:
        assert DOC_ID.fullmatch(d["doc_id"])
        assert d["title"] and d["chunks"] >= 1
    one = client.get(f"/api/documents/{docs[0]['doc_id']}")
    assert one.status_code == 200
    body = one.json()
    assert body["doc_id"] == docs[0]["doc_id"]
    assert body["title"] == docs[0]["title"]
    assert len(body["text"]) > 200


@pytest.mark.parametrize(
    "doc_id",
    [
        "000_nope",
        "..%2F..%2Fetc%2Fpasswd",
        "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
        "%2e%2e",
        "..",
        ".hidden",
        "a" * 129,
        "x%00y",
        "%E5%90%8D%E5%AD%97",
        "000_991f4531c80f9026%2F..%2F..%2Fmanifest.json",
        "manifest.json",
        "documents.jsonl",
        "..%5C..%5Cwindows",
    ],
)
def test_unknown_or_suspicious_document_ids_are_404(client: TestClient, doc_id: str) -> None:
    r = client.get(f"/api/documents/{doc_id}")
    body = assert_error(r, 404, "not_found")
    assert "root:" not in r.text and "index_hash" not in r.text
    assert body["detail"] == []


# --- bad input ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("body", "field", "zh"),
    [
        ({"question": ""}, "question", "问题不能为空"),
        ({"question": "   \n\t\u3000 "}, "question", "问题不能为空"),
        ({"question": "断" * 501}, "question", "问题不能超过 500 个字"),
        ({"question": "医保断缴", "top_k": 0}, "top_k", "不能小于 1"),
        ({"question": "医保断缴", "top_k": 21}, "top_k", "不能大于 20"),
        ({"question": "医保断缴", "top_k": -1}, "top_k", "不能小于 1"),
        ({"question": "医保断缴", "top_k": "5"}, "top_k", "必须是整数"),
        ({"question": "医保断缴", "top_k": 1e9}, "top_k", "必须是整数"),
        ({"question": "医保断缴", "top_k": 10**9}, "top_k", "不能大于 20"),
        ({"question": "医保断缴", "top_k": 5.0}, "top_k", "必须是整数"),
        ({"question": "医保断缴", "top_k": True}, "top_k", "必须是整数"),
        ({"question": "医保断缴", "top_k": None}, "top_k", "必须是整数"),
        ({"question": "\u200b\u200b\ufeff"}, "question", "问题不能为空"),  # the service's own check
        ({"question": "\x00\x01\u2028"}, "question", "问题不能为空"),
        ({"question": 123}, "question", "问题必须是字符串"),
        ({"question": ["医保"]}, "question", "问题必须是字符串"),
        ({"question": None}, "question", "问题必须是字符串"),
        ({}, "question", "缺少问题"),
        ({"q": "医保断缴"}, "q", "不支持的字段"),
        ({"question": "医保断缴", "debug": True}, "debug", "不支持的字段“debug”"),
    ],
)
def test_ask_rejects_bad_input(client: TestClient, body: dict, field: str, zh: str) -> None:
    r = client.post("/api/ask", json=body)
    result = assert_error(r, 422, "invalid_request", field)
    assert zh in result["message_zh"], result
    assert all(set(item) == {"loc", "field", "type", "message_zh", "message_en"} for item in result["detail"])


def test_ask_error_does_not_echo_input(client: TestClient) -> None:
    secret = "110105194912310021"
    r = client.post("/api/ask", json={"question": "医保", "top_k": secret})
    assert_error(r, 422, "invalid_request", "top_k")
    assert secret not in r.text


def test_typo_in_a_field_name_is_named_before_the_missing_field(client: TestClient) -> None:
    body = assert_error(client.post("/api/ask", json={"qustion": "医保断缴"}), 422, "invalid_request", "qustion")
    assert body["message_zh"] == "不支持的字段“qustion”(另有 1 处错误)"
    assert body["message_en"] == "unknown field 'qustion' (and 1 more)"
    pairs = [(d["type"], d["field"]) for d in body["detail"]]
    assert pairs == [("extra_forbidden", "qustion"), ("missing", "question")]


def test_many_unknown_fields_give_one_item_with_a_count(client: TestClient) -> None:
    fields = {f"x{i}": i for i in range(200)}
    r = client.post("/api/ask", json={"question": "医保断缴", **fields})
    body = assert_error(r, 422, "invalid_request", "x0")
    assert len(body["detail"]) == 1 and body["detail"][0]["type"] == "extra_forbidden"
    assert body["message_zh"] == "不支持的字段共 200 个:“x0”、“x1”、“x2”等"
    assert body["message_en"] == "200 unknown fields: 'x0', 'x1', 'x2', …"
    assert '"x3"' not in r.text and "x199" not in r.text and len(r.text) < 600


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("a" * 5000, "a" * 31 + "…"),
        ("<img src=x onerror=alert(1)>", "?img?src?x?onerror?alert?1??"),
        ("110101199003071234", "[身份证号]"),  # a personal number pasted as a key is masked like in logs
        ("问题", "问题"),
    ],
)
def test_unknown_field_names_are_cut_to_a_safe_form(client: TestClient, name: str, shown: str) -> None:
    r = client.post("/api/ask", json={"question": "医保断缴", name: 1})
    body = assert_error(r, 422, "invalid_request", shown)
    assert body["detail"][0]["loc"] == ["body", shown]
    assert body["message_zh"] == f"不支持的字段“{shown}”" and body["message_en"] == f"unknown field '{shown}'"
    if name != shown:
        assert name not in r.text and "<" not in r.text


def test_unknown_calculation_parameter_name_is_cut_to_a_safe_form(client: TestClient) -> None:
    name = "<b>" + "x" * 300
    r = client.post("/api/calculate", json={"kind": "monthly_contribution", "params": {name: 1}})
    shown = "?b?" + "x" * 28 + "…"
    body = assert_error(r, 422, "invalid_request", shown)
    assert body["detail"][0]["loc"] == ["body", "params", shown]
    assert f"未知参数“{shown}”" in body["message_zh"] and "base" in body["message_zh"]  # still lists what is valid
    assert f"unknown parameter '{shown}'" in body["message_en"]
    assert "<b>" not in r.text and "x" * 29 not in r.text


@pytest.mark.parametrize("path", ["/api/ask", "/api/search"])
@pytest.mark.parametrize(
    ("content", "headers", "kind"),
    [
        (b'{"question": "x"', JSON, "json_invalid"),
        (b"not json at all", JSON, "json_invalid"),
        (b'{"question": "\xff\xfe"}', JSON, "utf8_invalid"),
        (b"\xff\xfe{\x00", JSON, "utf8_invalid"),
        (b"", JSON, "missing"),
        (b"[1, 2]", JSON, "model_attributes_type"),
        (b'"question"', JSON, "model_attributes_type"),
        (b"null", JSON, None),
        (b'{"question": "x"}', {"Content-Type": "text/plain"}, None),
        (b'{"question": "x"}', {}, None),
    ],
)
def test_unreadable_bodies_are_422(client: TestClient, path: str, content: bytes, headers: dict, kind) -> None:
    r = client.post(path, content=content, headers=headers)
    body = assert_error(r, 422, "invalid_request")
    if kind is not None:
        assert body["detail"][0]["type"] == kind, body


@pytest.mark.parametrize(
    ("path", "content", "field", "zh"),
    [
        ("/api/ask", b'{"question": "\\ud800\\u533b\\u4fdd"}', "question", "问题包含无效的字符"),
        ("/api/search", b'{"query": "\\udfff"}', "query", "检索词包含无效的字符"),
        ("/api/search", b'{"query": "\\u200b"}', "query", "检索词不能为空"),
        ("/api/calculate", b'{"kind": "monthly_contribution", "params": {"base": "\\ud800", "rate": "4%"}}',
         "params", "包含无效的字符"),
        ("/api/calculate", b'{"kind": "monthly_contribution", "params": {"\\ud800": 1, "base": 1, "rate": "4%"}}',
         "params", "包含无效的字符"),
        ("/api/calculate", b'{"kind": "\\ud800", "params": {}}', "kind", "包含无效的字符"),
        ("/api/ask", b'{"question": "\\u533b\\u4fdd", "top_k": NaN}', "top_k", "必须是整数"),
        ("/api/ask", b'{"question": "\\u533b\\u4fdd", "top_k": Infinity}', "top_k", "必须是整数"),
    ],
)
def test_escaped_oddities(client: TestClient, path: str, content: bytes, field: str, zh: str) -> None:
    body = assert_error(client.post(path, content=content, headers=JSON), 422, "invalid_request", field)
    assert zh in body["message_zh"]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400", "-1", "1" + "0" * 40, '{"a": 1}', "[1]",
                                   "null", '"' + "9" * 3000 + '"', '"abc"'])
def test_calculate_odd_values_are_answered_or_422(client: TestClient, value: str) -> None:
    content = ('{"kind": "monthly_contribution", "params": {"rate": "4%", "base": ' + value + "}}").encode()
    r = client.post("/api/calculate", content=content, headers=JSON)
    if r.status_code != 200:
        assert_error(r, 422, "invalid_request", "base")


def test_oversized_body_is_413(client: TestClient, test_settings: Settings) -> None:
    limit = test_settings.max_body_bytes
    big = json.dumps({"question": "医" * limit}, ensure_ascii=False).encode()
    r = client.post("/api/ask", content=big, headers=JSON)
    body = assert_error(r, 413, "payload_too_large")
    assert str(limit) in body["message"]

    def chunks():  # no Content-Length: the limit is enforced while streaming
        yield b'{"question": "'
        for _ in range(limit // 1000 + 2):
            yield b"a" * 1000
        yield b'"}'

    r = client.post("/api/search", content=chunks(), headers=JSON)
    assert_error(r, 413, "payload_too_large")
    # just under the limit is read (and then rejected for the question's length, not the size)
    ok = json.dumps({"question": "a" * (limit - 100)}).encode()
    r = client.post("/api/ask", content=ok, headers=JSON)
    assert_error(r, 422, "invalid_request", "question")


def test_unknown_route_and_method(client: TestClient) -> None:
    assert_error(client.get("/api/nope"), 404, "not_found")
    assert_error(client.get("/api/ask"), 405, "method_not_allowed")
    assert_error(client.get("/static/../ingest/settings.py"), 404, "not_found")
    assert_error(client.get("/static/..%2F..%2Fingest%2Fsettings.py"), 404, "not_found")


# --- headers, CORS, 500 ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("GET", "/", {}),
        ("GET", "/static/app.js", {}),
        ("GET", "/static/style.css", {}),
        ("GET", "/api/health", {}),
        ("GET", "/api/documents/..%2Fetc", {}),
        ("POST", "/api/ask", {"json": {"question": ""}}),
        ("GET", "/openapi.json", {}),
        ("GET", "/docs", {}),
        ("GET", "/docs-static/swagger-ui-bundle.js", {}),
        ("GET", "/nope", {}),
    ],
)
def test_security_headers_everywhere(client: TestClient, method: str, path: str, kwargs: dict) -> None:
    r = client.request(method, path, **kwargs)
    assert r.headers["content-security-policy"] == STRICT_CSP
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"
    assert "access-control-allow-origin" not in r.headers
    if path.startswith("/api/"):
        assert r.headers["cache-control"] == "no-store"


def test_csp_constant_matches_the_brief() -> None:
    assert CSP == STRICT_CSP


def test_docs_are_self_hosted(client: TestClient) -> None:
    r = client.get("/docs")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == STRICT_CSP  # Swagger UI runs under the same policy
    html = r.text
    assert "http://" not in html and "https://" not in html  # no CDN
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script on /docs"
    for src in re.findall(r'(?:src|href)="(/[^"]+)"', html):
        assert client.get(src).status_code == 200, src
    spec = client.get("/openapi.json").json()
    assert {"/api/ask", "/api/search", "/api/calculate", "/api/documents", "/api/documents/{doc_id}",
            "/api/health"} <= set(spec["paths"])
    examples = spec["paths"]["/api/ask"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert any("断缴" in e["value"]["question"] for e in examples.values())
    assert "422" in spec["paths"]["/api/ask"]["post"]["responses"]
    # the schema tells the truth: " " + 500 characters is accepted (the limit applies after trimming)
    question = spec["components"]["schemas"]["AskRequest"]["properties"]["question"]
    assert "maxLength" not in question and question["x-max-length-after-trim"] == 500


def test_cors_closed_by_default(client: TestClient) -> None:
    origin = {"Origin": "https://evil.example"}
    r = client.get("/api/health", headers=origin)
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers
    r = client.options("/api/ask", headers={**origin, "Access-Control-Request-Method": "POST",
                                            "Access-Control-Request-Headers": "content-type"})
    assert "access-control-allow-origin" not in r.headers
    assert r.status_code in (404, 405)


def test_cors_open_only_for_configured_origins(service, test_settings: Settings) -> None:
    settings = test_settings.model_copy(update={"cors_origins": ["https://allowed.example"]})
    with TestClient(create_app(settings, service=service)) as c:
        pre = {"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"}
        r = c.options("/api/ask", headers={"Origin": "https://allowed.example", **pre})
        assert r.status_code == 200
        assert r.headers["access-control-allow-origin"] == "https://allowed.example"
        r = c.options("/api/ask", headers={"Origin": "https://evil.example", **pre})
        assert "access-control-allow-origin" not in r.headers
        r = c.get("/api/health", headers={"Origin": "https://allowed.example"})
        assert r.headers["access-control-allow-origin"] == "https://allowed.example"
        assert r.headers["content-security-policy"] == STRICT_CSP


class _Exploding:
    """Wraps the real service; ``ask`` fails like a bug would, with a path in the message."""

    def __init__(self, real) -> None:
        self.real = real

    def ask(self, question: str, top_k: int = 5):
        raise RuntimeError(f"boom in {PROJECT_ROOT}/qa/service.py: secret-internal-state")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_unexpected_error_is_a_generic_500(service, test_settings: Settings) -> None:
    app = create_app(test_settings, service=_Exploding(service))
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/api/ask", json={"question": "医保断缴了怎么办?"})
        body = assert_error(r, 500, "internal_error")
        assert "boom" not in r.text and "secret" not in r.text
        assert body["detail"] == []
        assert r.headers["content-security-policy"] == STRICT_CSP
        assert r.headers["x-frame-options"] == "DENY"
        assert c.get("/api/health").status_code == 200  # the app keeps serving


class _Slow:
    """Wraps the real service; ``ask`` takes a while, like a long CPU-bound answer."""

    def __init__(self, real) -> None:
        self.real = real

    def ask(self, *args, **kwargs):
        time.sleep(1.5)
        return self.real.ask(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_slow_answers_do_not_block_the_event_loop(service, test_settings: Settings) -> None:
    with TestClient(create_app(test_settings, service=_Slow(service))) as c:
        statuses: list[int] = []
        slow = threading.Thread(target=lambda: statuses.append(
            c.post("/api/ask", json={"question": "医保断缴怎么办?"}).status_code))
        slow.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        assert c.get("/api/health").status_code == 200
        assert time.monotonic() - t0 < 1.0, "health waited for the answer: the event loop was blocked"
        slow.join(30)
        assert statuses == [200]  # and the slow answer itself was served


def test_concurrent_requests(client: TestClient) -> None:
    questions = ["医保断缴了怎么补缴?", "断缴半年后多久能报销?", "灵活就业医保怎么交?", "天气怎么样?"]
    results: dict[int, int] = {}

    def run(i: int, q: str) -> None:
        results[i] = client.post("/api/ask", json={"question": q}).status_code

    threads = [threading.Thread(target=run, args=(i, q)) for i, q in enumerate(questions)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == dict.fromkeys(range(len(questions)), 200)


# --- privacy --------------------------------------------------------------------------------------------

def test_questions_are_not_stored_by_default(client: TestClient, test_settings: Settings) -> None:
    assert test_settings.store_questions is False
    assert client.app.question_log is None


def test_stored_questions_are_masked(service, test_settings: Settings, tmp_path: Path) -> None:
    log_file = tmp_path / "questions.jsonl"
    settings = test_settings.model_copy(update={"store_questions": True, "questions_log": log_file})
    with TestClient(create_app(settings, service=service)) as c:
        q = "我身份证11010519491231002X,手机13812345678,社保卡6222020012345678901,断缴3个月怎么补?"
        assert c.post("/api/ask", json={"question": q}).status_code == 200
    record = json.loads(log_file.read_text(encoding="utf-8").strip())
    assert record["question"] == f"我身份证{ID_MASK},手机{PHONE_MASK},社保卡{CARD_MASK},断缴3个月怎么补?"
    assert set(record) == {"time", "question", "refused", "citations"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("身份证号110105194912310021", f"身份证号{ID_MASK}"),
        ("身份证11010519491231002X号", f"身份证{ID_MASK}号"),
        ("id 11010519491231002x.", f"id {ID_MASK}."),
        ("电话13812345678", f"电话{PHONE_MASK}"),
        ("电话 138 1234 5678 谢谢", f"电话 {PHONE_MASK} 谢谢"),
        ("电话138-1234-5678", f"电话{PHONE_MASK}"),
        ("手机１３８１２３４５６７８", f"手机{PHONE_MASK}"),
        ("卡号6222020012345678", f"卡号{CARD_MASK}"),
        ("卡号 6222 0200 1234 5678 901 已绑定", f"卡号 {CARD_MASK} 已绑定"),
        ("社保卡号123456789012", f"社保卡号{CARD_MASK}"),
        ("13812345678和110105194912310021", f"{PHONE_MASK}和{ID_MASK}"),
        ("缴费基数4340元,费率4%,2025年5月17日,20250517", "缴费基数4340元,费率4%,2025年5月17日,20250517"),
        ("断缴3个月,补缴12000元", "断缴3个月,补缴12000元"),
        ("号码12345678901", "号码12345678901"),  # 11 digits but not a mobile number
        ("", ""),
    ],
)
def test_mask_pii(text: str, expected: str) -> None:
    assert mask_pii(text) == expected


def test_mask_pii_leaves_no_long_digit_runs() -> None:
    text = "a13812345678b 110105194912310021 6222 0200 1234 5678 13900001111 11010519491231002X"
    masked = mask_pii(text)
    assert not re.search(r"\d{6,}", masked.replace(" ", "")), masked


# --- start-up -------------------------------------------------------------------------------------------

def test_startup_fails_cleanly_without_index(tmp_path: Path, test_settings: Settings) -> None:
    from qa.service import IndexNotReady

    settings = test_settings.model_copy(update={"index_dir": tmp_path / "missing"})
    with pytest.raises(IndexNotReady) as info, TestClient(create_app(settings)):
        pass
    line = startup_message(info.value)
    assert line.startswith("error: ") and "\n" not in line
    assert "missing" in line


def test_python_m_api_prints_one_line_when_index_is_broken(tmp_path: Path) -> None:
    broken = tmp_path / "index"
    broken.mkdir()
    (broken / "manifest.json").write_text("{not json", encoding="utf-8")
    env = {"PATH": "/usr/bin:/bin", "YIBAO_INDEX_DIR": str(broken), "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-m", "api", "--no-build", "--port", "1"], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip() and "faiss" not in ln]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in proc.stderr
    assert "serving on" not in proc.stdout


# --- the page -------------------------------------------------------------------------------------------

def test_page_has_no_inline_script_and_no_cdn(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "<script src=\"/static/app.js\"" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html), "inline style attribute"
    assert "http://" not in html and "https://" not in html
    for example in ("断缴3个月后补缴,多久能恢复报销?", "缴费基数4340元、费率4%,每月交多少?",
                    "嘉峪关居民医保2025年交多少钱?", "天津医保断交了怎么在网上补缴?", "公积金断缴了怎么办?"):
        assert example in html
    js = client.get("/static/app.js").text
    assert not re.search(r"\.(innerHTML|outerHTML)\b|insertAdjacentHTML|document\.write", js)
    assert "eval(" not in js and "new Function" not in js
