"""Bad input, on purpose and at random: property/fuzz tests and schemathesis against the app's own schema.

* the question normaliser is total (a ``Query`` or ``QuestionError``), idempotent, bounded and leaves no
  control/format characters;
* the number parser, the calculation detector and the calculator take arbitrary Unicode and answer with a
  value, ``None`` or the documented ``CalcError`` (the calculator engineer's own properties live in
  test_calculator.py / test_numparse.py and are not repeated here);
* ``QAService.ask`` and the HTTP API handle every input class from issue 8 on purpose (empty, 10 000
  characters, punctuation/emoji only, English/mixed, traditional, full-width, SQL/HTML/script, NUL and
  control characters, invalid UTF-8, lone surrogates, wrong JSON types, huge ``top_k``, unknown fields);
* schemathesis, in process (ASGI), generates valid and invalid requests for every operation: no 5xx,
  every error a 4xx with the documented bilingual body.
"""

from __future__ import annotations

import contextlib
import json
import re
import unicodedata
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.settings import PROJECT_ROOT, Settings
from qa import numparse
from qa.calc_detect import detect
from qa.calculator import KINDS, CalcError, compute
from qa.normalize import MAX_QUESTION_CHARS, QuestionError, normalise_question, normalise_text

# NFKC maps one code point to at most 18 (U+FDFA); nothing else in the normaliser lengthens text by more.
NFKC_MAX_EXPANSION = 18
FORBIDDEN_CATEGORIES = {"Cc", "Cf", "Cs"}  # control, format (zero-width, bidi), lone surrogates
JSON = {"Content-Type": "application/json"}

# Words the normaliser rewrites, numerals it folds, look-alikes it must leave stable, and hostile characters.
_VOCAB = [
    "咋", "办", "整", "啥", "时候", "医宝", "补叫", "断了", "不交了", "停了", "能不能用", "卡里的钱", "公司",
    "看病", "没工作了", "失业了", "罚款", "罚多少", "一", "二", "两", "三", "十", "百", "千", "万", "零", "〇",
    "个月", "年", "元", "次", "倍", "岁", "缴", "交", "保", "档", "醫保", "斷繳", "個", "兩", "萬", "１２", "％",
    "㍿", "ﷺ", "\u2066", "\u2069", "\u202e", "\u00ad", "\u200d", "\u2060", "\ufe0f", "\ufeff", "\U000e0041",
    "\U0001f600", " ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u3000", "\u2028", "\ud800", "\udfff",
]
vocab_text = st.lists(st.sampled_from(_VOCAB), max_size=30).map("".join)
surrogates = st.characters(categories=["Cs"])
any_text = st.one_of(
    st.text(max_size=120),
    st.text(alphabet=st.one_of(st.characters(), surrogates), max_size=60),
    vocab_text,
    st.text(max_size=MAX_QUESTION_CHARS + 40).filter(lambda s: len(s) > MAX_QUESTION_CHARS - 40),
)
FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _bad_chars(text: str) -> list[str]:
    return [f"U+{ord(c):04X}" for c in text if unicodedata.category(c) in FORBIDDEN_CATEGORIES]


def _visible(text: str) -> str:
    """What must survive cleaning: no whitespace, control, format or surrogate characters."""
    return "".join(c for c in text if not c.isspace() and unicodedata.category(c) not in FORBIDDEN_CATEGORIES)


# --- the question normaliser ----------------------------------------------------------------------------

@FUZZ
@given(any_text)
def test_normaliser_is_total_and_rejects_only_empty_or_too_long(text: str) -> None:
    try:
        q = normalise_question(text)
    except QuestionError as exc:
        assert " / " in str(exc)  # bilingual
        assert not _visible(text) or len(text) > MAX_QUESTION_CHARS, (ascii(text), str(exc))
        return
    assert _visible(text)
    assert 1 <= len(q.original) <= min(len(text), MAX_QUESTION_CHARS)
    assert q.original == q.original.strip() and "  " not in q.original


@FUZZ
@given(any_text)
def test_normaliser_output_is_clean_bounded_and_idempotent(text: str) -> None:
    try:
        q = normalise_question(text)
    except QuestionError:
        return
    assert not _bad_chars(q.original), (ascii(text), _bad_chars(q.original))
    assert not _bad_chars(q.text), (ascii(text), _bad_chars(q.text))
    assert len(q.text) <= NFKC_MAX_EXPANSION * len(q.original)
    assert normalise_text(q.text) == q.text
    assert normalise_question(q.original) == q
    if len(q.text) <= MAX_QUESTION_CHARS:
        assert normalise_question(q.text).text == q.text


def test_normaliser_worst_case_expansion_is_bounded() -> None:
    q = normalise_question("\ufdfa" * MAX_QUESTION_CHARS)
    assert len(q.text) <= NFKC_MAX_EXPANSION * MAX_QUESTION_CHARS


@pytest.mark.parametrize(
    "text",
    [
        "医保\u2066断缴\u2069怎么补",  # bidi isolates (Trojan Source)
        "医保\u202e断缴怎么补",  # bidi override
        "医\u00ad保\u2060断\u200d缴",  # soft hyphen, word joiner, ZWJ
        "医保\U000e0041\U000e007f断缴",  # tag characters
        "医保\ud800断缴",  # lone surrogate (reaches Python from a JSON "\ud800" escape)
    ],
)
def test_format_and_surrogate_characters_are_removed(text: str) -> None:
    q = normalise_question(text)
    assert not _bad_chars(q.original) and not _bad_chars(q.text), ascii(q.original)
    q.original.encode("utf-8")  # an answer echoes it; it must be encodable


# --- number parser, calculation detector, calculator ------------------------------------------------------

_PARSERS = [numparse.parse_number, numparse.parse_amount, numparse.parse_rate, numparse.parse_rate_range,
            numparse.parse_duration, numparse.parse_date]
_NUMERIC = st.lists(
    st.sampled_from(list("0123456789０１２３４５６７８９.,，。%％-—~到至年月日号天周个半多元块万亿千百十"
                         "一二两三四五六七八九零〇点分之份 断缴补交滞纳金基数费率每月退休")
                    + ["\x00", "\u2066", "\U0001f600", "ﷺ", "㍿", "\ud800", "1e999", "NaN", "Infinity"]),
    max_size=40,
).map("".join)
numeric_text = st.one_of(st.text(max_size=80), st.text(alphabet=st.one_of(st.characters(), surrogates),
                                                        max_size=40), _NUMERIC)


@FUZZ
@given(numeric_text, st.sampled_from(_PARSERS))
def test_parsers_take_any_text(text: str, parse) -> None:
    value = parse(text)
    assert value is None or isinstance(value, Decimal | tuple | numparse.Duration | numparse.CalendarDate)
    for q in numparse.find_quantities(text):
        assert 0 <= q.start < q.end <= len(text)


@FUZZ
@given(numeric_text, st.booleans())
def test_detect_takes_any_text(text: str, with_today: bool) -> None:
    req = detect(text, today=date(2025, 5, 17) if with_today else None)
    if req is not None and not req.out_of_scope:
        assert req.kind in KINDS
        # what it read must be usable by the calculator (or be refused with a CalcError, never a crash)
        with contextlib.suppress(CalcError):
            compute(req.kind, req.params)


@FUZZ
@given(st.one_of(st.sampled_from(sorted(KINDS)), st.text(max_size=20)), st.data())
def test_calculator_takes_any_unicode_values(kind: str, data: st.DataObject) -> None:
    names = list(KINDS[kind].param_names) if kind in KINDS else []
    keys = st.one_of(st.sampled_from(names), st.text(max_size=10)) if names else st.text(max_size=10)
    params = data.draw(st.dictionaries(keys, st.one_of(st.text(max_size=30), _NUMERIC), max_size=5))
    try:
        r = compute(kind, params)
    except CalcError as err:
        assert err.param in (*names, "kind", "params") or err.param in params, err.param
        assert err.message_zh and err.message_en
        return
    json.dumps(r.calculation.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")


# --- QAService.ask on purpose and at random ---------------------------------------------------------------

@pytest.fixture(scope="module")
def service(qa_service):
    return qa_service


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(text=st.one_of(st.text(max_size=60), vocab_text, _NUMERIC))
def test_ask_never_crashes(service, text: str) -> None:
    try:
        ans = service.ask(text)
    except QuestionError:
        assert not _visible(text) or len(text) > MAX_QUESTION_CHARS
        return
    json.dumps(ans.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
    assert ans.refused or ans.citations or ans.calculation is not None


@pytest.mark.parametrize(
    "text", ["", "   ", "\n\t\r \u3000", "\x00", "\x00\x01\x1b\x7f", "\u200b\ufeff\u2066", "断缴" * 5000,
             "a" * 10_000],
)
def test_service_rejects_empty_and_too_long(service, text: str) -> None:
    with pytest.raises(QuestionError, match=" / "):
        service.ask(text)
    with pytest.raises(QuestionError):
        service.search(text)


def test_service_trims_padding_before_the_length_check(service) -> None:
    ans = service.ask(" \n" * 5000 + "医保断缴了怎么补缴?" + "\u3000" * 5000)
    assert ans.question == "医保断缴了怎么补缴?" and not ans.refused


@pytest.mark.parametrize(
    "text",
    ["？？？！！。。。", "......", "!!!???", "😀😷💊🏥", "\U0001f600" * 400, "ﷺ" * MAX_QUESTION_CHARS,
     "'; DROP TABLE documents; --", "1 OR 1=1", "How's the weather today?"],
)
def test_service_refuses_content_free_or_foreign_questions(service, text: str) -> None:
    ans = service.ask(text)
    assert ans.refused and not ans.citations, ans.answer


def test_traditional_and_full_width_questions_answer_like_simplified(service) -> None:
    simple = service.ask("医保断缴三个月怎么补缴?")
    trad = service.ask("醫保斷繳三個月怎麼補繳？")
    assert not simple.refused and not trad.refused
    assert [c.chunk_id for c in trad.citations] == [c.chunk_id for c in simple.citations]
    half = service.ask("缴费基数4340元,费率4%,每月交多少?")
    full = service.ask("缴费基数４３４０元，费率４％，每月交多少？")
    assert half.calculation is not None and full.calculation is not None
    assert full.calculation.result == half.calculation.result == pytest.approx(173.6)


@pytest.mark.parametrize(
    "text",
    ["<script>alert(1)</script>医保断缴了怎么补缴?", "<img src=x onerror=alert(1)>断缴3个月多久能报销",
     "医保断缴怎么补' OR '1'='1", "医保\x00断缴\x1b[31m怎么补缴\x7f", "Medical insurance 断缴 3 months, 怎么补缴?"],
)
def test_service_answers_hostile_wrappers_around_real_questions(service, text: str) -> None:
    ans = service.ask(text)
    assert not _bad_chars(ans.question)
    assert not ans.refused, ans.answer
    for c in ans.citations:
        assert service.document(c.doc_id)["text"][c.start : c.end] == c.text


def test_service_huge_top_k(service) -> None:
    n = len(service.data.chunks)
    assert len(service.search("医保断缴", top_k=10**9)) <= n
    assert not service.ask("医保断缴了怎么补缴?", top_k=10**9).refused


# --- the HTTP API on purpose ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(service, test_settings: Settings):
    from api.app import create_app

    with TestClient(create_app(test_settings, service=service), raise_server_exceptions=False) as c:
        yield c


def assert_clear_4xx(r, *statuses: int) -> dict:
    assert r.status_code in (statuses or (400, 404, 405, 413, 415, 422)), (r.status_code, r.text[:300])
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert {"error", "message", "message_zh", "message_en", "detail"} <= set(body), body
    assert re.search(r"[\u4e00-\u9fff]", body["message_zh"]) and body["message_en"], body
    for leak in ("Traceback", 'File "', ".py", str(PROJECT_ROOT), "site-packages"):
        assert leak not in r.text, leak
    return body


def _raw(client: TestClient, path: str, body: str | bytes):
    data = body.encode("utf-8") if isinstance(body, str) else body
    return client.post(path, content=data, headers=JSON)


@pytest.mark.parametrize(
    "question",
    ["\x00", "\x01\x1b\x7f", "\u200b\ufeff", "\u2066\u2069"],
    ids=["nul", "controls", "zero-width", "bidi"],
)
@pytest.mark.parametrize("path,field", [("/api/ask", "question"), ("/api/search", "query")])
def test_api_invisible_only_text_is_422_not_500(client: TestClient, path: str, field: str, question: str) -> None:
    body = assert_clear_4xx(client.post(path, json={field: question}), 422)
    assert body["detail"] and body["detail"][0]["field"] == field, body


@pytest.mark.parametrize(
    "payload",
    [{"question": "医保断缴" * 2500}, {"question": "a" * 10_000}, {"question": "断" * 501}],
    ids=["10k-cjk", "10k-ascii", "501"],
)
def test_api_long_questions_are_4xx(client: TestClient, payload: dict) -> None:
    assert_clear_4xx(client.post("/api/ask", json=payload), 413, 422)


@pytest.mark.parametrize(
    "question",
    ["？？？！！。。。", "😀😷💊🏥", "Hello, how do I pay my insurance?", "'; DROP TABLE documents; --",
     "<script>alert(1)</script>", "医保\x00断缴\x1b怎么补缴", "醫保斷繳三個月怎麼補繳？",
     "缴费基数４３４０元，费率４％，每月交多少？", "医保 lapse 3 个月 how to 补缴?"],
)
def test_api_odd_but_valid_questions_are_200(client: TestClient, question: str) -> None:
    r = client.post("/api/ask", json={"question": question})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert not _bad_chars(body["question"])
    assert "<script>" not in r.headers.get("content-type", "")


@pytest.mark.parametrize(
    ("path", "raw"),
    [
        ("/api/ask", '{"question": "医保\\ud800断缴"}'),
        ("/api/ask", '{"question": "\\udfff"}'),
        ("/api/search", '{"query": "\\ud83d"}'),
        ("/api/calculate", '{"kind": "\\ud800", "params": {}}'),
        ("/api/calculate", '{"kind": "monthly_contribution", "params": {"base": "\\ud800", "rate": "4%"}}'),
        ("/api/calculate", '{"kind": "monthly_contribution", "params": {"\\ud800": 1, "base": 1, "rate": "4%"}}'),
    ],
    ids=["ask", "ask-low", "search", "calc-kind", "calc-value", "calc-key"],
)
def test_api_lone_surrogate_escapes_are_4xx(client: TestClient, path: str, raw: str) -> None:
    assert_clear_4xx(_raw(client, path, raw), 422)


@pytest.mark.parametrize(
    ("path", "content"),
    [
        ("/api/ask", b'{"question": "\xe5\x8c\xbb\xff"}'),
        ("/api/search", b'{"query": "\xc0\xaf"}'),
        ("/api/calculate", b'{"kind": "monthly_contribution", "params": {"base": "\xed\xa0\x80"}}'),
    ],
)
def test_api_invalid_utf8_is_422(client: TestClient, path: str, content: bytes) -> None:
    assert_clear_4xx(_raw(client, path, content), 422)


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/ask", {"question": {"text": "医保"}}),
        ("/api/ask", {"question": [["医保"]]}),
        ("/api/ask", {"question": "医保", "top_k": 1.5}),
        ("/api/ask", {"question": "医保", "top_k": 10**100}),
        ("/api/ask", {"question": "医保", "top_k": -(10**100)}),
        ("/api/ask", {"question": "医保", "top_k": [5]}),
        ("/api/ask", {"question": "医保", "admin": True}),
        ("/api/ask", {"question": "医保", "__proto__": {"x": 1}}),
        ("/api/search", {"query": "医保", "top_k": 10**9}),
        ("/api/search", {"query": "医保", "question": "医保"}),
        ("/api/calculate", {"kind": 5, "params": {}}),
        ("/api/calculate", {"kind": "monthly_contribution", "params": [["base", 4340]]}),
        ("/api/calculate", {"kind": "monthly_contribution", "params": {"base": {"$gt": 0}, "rate": "4%"}}),
        ("/api/calculate", {"kind": "monthly_contribution", "params": {"base": 1e308, "rate": 1e308}}),
        ("/api/calculate", {"kind": "monthly_contribution", "params": {"base": 4340, "rate": "4%"}, "x": 1}),
        ("/api/calculate", {"kind": "monthly_contribution", "params": {f"p{i}": i for i in range(40)}}),
        ("/api/calculate", {"kind": "../../etc/passwd", "params": {}}),
    ],
)
def test_api_wrong_types_huge_numbers_and_unknown_fields_are_422(client: TestClient, path: str, payload) -> None:
    assert_clear_4xx(client.post(path, json=payload), 422)


@pytest.mark.parametrize("raw", ['{"question": NaN}', '{"question": "医保", "top_k": Infinity}',
                                 '{"question": "医保", "question": 5}', '{"question": "医保"} trailing',
                                 "[" * 5000 + "]" * 5000])
def test_api_odd_json_is_4xx(client: TestClient, raw: str) -> None:
    assert_clear_4xx(_raw(client, "/api/ask", raw))


def test_api_still_serves_after_the_barrage(client: TestClient) -> None:
    r = client.post("/api/ask", json={"question": "医保断缴了怎么补缴?"})
    assert r.status_code == 200 and not r.json()["refused"]


# --- schemathesis against the app's own OpenAPI schema -----------------------------------------------------
# `schemathesis.pytest.from_fixture` + `@schema.parametrize()` fails under pytest 9 (schemathesis 4.32.5 reads
# the removed `Function._nodeid`), so each operation's strategies are driven by Hypothesis directly.

OPERATIONS = [
    ("/api/ask", "POST"), ("/api/search", "POST"), ("/api/calculate", "POST"), ("/api/calculate/kinds", "GET"),
    ("/api/documents", "GET"), ("/api/documents/{doc_id}", "GET"), ("/api/health", "GET"),
    # the knowledge-base admin API (403 here: no admin token is configured), FAQ pairs, conversations
    ("/api/documents", "POST"), ("/api/documents/{doc_id}", "PUT"), ("/api/documents/{doc_id}", "DELETE"),
    ("/api/faq", "GET"), ("/api/faq", "POST"), ("/api/faq/pairs", "POST"), ("/api/faq/{pair_id}/similar", "POST"),
    ("/api/faq/{pair_id}", "PUT"), ("/api/faq/{pair_id}", "DELETE"), ("/api/feedback", "POST"),
    ("/api/conversations/{conversation_id}", "GET"), ("/api/conversations/{conversation_id}", "DELETE"),
    ("/api/insights", "GET"), ("/api/insights.csv", "GET"),
]
CHECKS = [schemathesis.checks.not_a_server_error, schemathesis.checks.status_code_conformance,
          schemathesis.checks.content_type_conformance, schemathesis.checks.response_schema_conformance,
          schemathesis.checks.negative_data_rejection]


@pytest.fixture(scope="module")
def api_schema(service, test_settings: Settings):
    from api.app import create_app

    return schemathesis.openapi.from_asgi("/openapi.json", create_app(test_settings, service=service))


def test_schema_lists_exactly_the_fuzzed_operations(api_schema) -> None:
    ops = {(op.ok().path, op.ok().method.upper()) for op in api_schema.get_all_operations()}
    assert ops == set(OPERATIONS)


@pytest.mark.parametrize(("path", "method"), OPERATIONS)
def test_schemathesis_no_5xx_and_clear_4xx(api_schema, path: str, method: str) -> None:
    from schemathesis import GenerationMode

    op = api_schema[path][method]
    strategy = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))
    seen: dict[int, int] = {}

    @settings(max_examples=20, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def run(case) -> None:
        response = case.call(timeout=60)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        assert response.status_code < 500, (case.method, case.path, case.body, response.text[:300])
        if response.status_code >= 400:
            body = response.json()
            assert {"error", "message", "message_zh", "message_en", "detail"} <= set(body), body
            assert body["message_zh"] and body["message_en"]
            for leak in ("Traceback", 'File "', ".py", str(PROJECT_ROOT)):
                assert leak not in response.text
        case.validate_response(response, checks=CHECKS)

    run()
    if method == "POST" or "{" in path:
        assert sum(seen.values()) >= 10, seen  # the strategies really produced requests
    print(f"{method} {path}: {dict(sorted(seen.items()))}")


def test_no_file_paths_in_the_schema(client: TestClient) -> None:
    text = client.get("/openapi.json").text
    assert str(PROJECT_ROOT) not in text and str(Path.home()) + "/" not in text
