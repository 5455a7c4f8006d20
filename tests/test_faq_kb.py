"""FAQ pairs in the knowledge base: import, bad rows, similar questions, verbatim answers, ranking."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ingest import store
from ingest.build import build_index
from ingest.faq import read_faq
from ingest.kb import KnowledgeBase, pair_record
from ingest.settings import Settings
from qa.service import QAService

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
EXAMPLE = (ROOT / "corpus" / "faq.example.csv").read_bytes()
TOKEN = "faq-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def settings(tmp_path: Path, test_settings: Settings, embedder) -> Settings:
    s = test_settings.model_copy(update={"index_dir": tmp_path / "index", "kb_dir": tmp_path / "kb",
                                         "admin_token": TOKEN, "conversations_db": tmp_path / "c.sqlite"})
    build_index(CORPUS, s.index_dir, settings=s, embedder=embedder, progress=False)
    return s


@pytest.fixture()
def kb(settings: Settings, embedder) -> KnowledgeBase:
    return KnowledgeBase(settings, embedder)


@pytest.fixture()
def service(settings: Settings, embedder) -> QAService:
    return QAService.load(settings, settings.index_dir, embedder=embedder)


def test_import_then_a_strong_match_is_answered_verbatim_and_cited_as_the_pair(kb, service):
    change = kb.import_faq("faq.csv", EXAMPLE)
    assert change.applied and change.added == 10 and not change.problems
    ans = service.ask("医保断了两个月，补缴后哪个月能用")  # one of the pair's similar questions
    assert ans.status == "answered" and ans.faq is not None
    pair = kb.faq_pairs()[ans.faq.pair_id]
    assert ans.answer == f"{pair['answer']}[1]"  # verbatim
    assert ans.faq.question == "医保断了两个月，补缴后哪个月能用" and ans.faq.main_question == pair["question"]
    (cite,) = ans.citations
    assert cite.doc_id == ans.faq.pair_id and cite.text == pair["answer"] and cite.highlights == [(0, len(cite.text))]
    assert service.document(ans.faq.pair_id)["text"] == pair["answer"]


def test_a_question_matching_nothing_closely_gets_the_article_answer(kb, service):
    kb.import_faq("faq.csv", EXAMPLE)
    ans = service.ask("没有稳定劳动关系的职工能以灵活就业人员身份参保吗")  # no pair is about this
    assert ans.status == "answered" and ans.faq is None
    assert ans.citations and ans.citations[0].doc_id.startswith("001")


def test_pairs_and_chunks_are_ranked_together_and_a_pair_counts_once(kb, service):
    kb.import_faq("faq.csv", EXAMPLE)
    hits = service.search("嘉峪关居民医保断缴后重新参保要等多久", 10)
    ids = [h.doc_id for h in hits]
    pair_ids = [i for i in ids if i.startswith("faq-")]
    assert pair_ids and len(pair_ids) == len(set(pair_ids))  # a pair appears once whatever its rows
    assert any(i.startswith("002") for i in ids)  # the article is ranked beside it
    # …also when the vectors find it through one row (a question) and BM25 through another (its answer).
    for q in [*(p["question"] for p in kb.faq_pairs().values()), "补缴以后多久能报销", "断缴半年还能补吗",
              "灵活就业人员医保怎么交", "医保卡里的钱断缴后还能用吗"]:
        pair_ids = [h.doc_id for h in service.search(q, 10) if h.doc_id.startswith("faq-")]
        assert len(pair_ids) == len(set(pair_ids)), q


def test_file_with_bad_rows_changes_nothing_unless_skip_bad(kb, settings):
    bad = EXAMPLE + "断缴了怎么办,,,,\n,只有答案没有问题,,,\n".encode()
    version = store.read_manifest(settings.index_dir)["kb_version"]
    change = kb.import_faq("faq.csv", bad)
    assert not change.applied and {p["line"] for p in change.problems} == {12, 13}
    assert store.read_manifest(settings.index_dir)["kb_version"] == version and not kb.faq_pairs()
    change = kb.import_faq("faq.csv", bad, skip_bad=True)
    assert change.applied and change.added == 10 and len(change.problems) == 2


def test_a_question_asked_by_another_pair_with_another_answer_is_a_bad_row(kb):
    kb.import_faq("faq.csv", EXAMPLE)
    clash = "question,answer\n居民医保缴费中断了，去哪里补缴？,另一个答案\n".encode()
    change = kb.import_faq("clash.csv", clash)
    assert change.applied  # same question → same pair id: this is a replacement of that pair's answer
    # (the replaced pair above lost its similar questions; this one is still another pair's)
    text = "question,answer,similar_questions\n新问题,新答案,补交医保要准备哪些证件\n".encode()
    change = kb.import_faq("clash.csv", text)
    assert not change.applied and change.problems[0]["code"] == "asked_by_another_pair"


def test_similar_question_is_live_at_once(kb, service):
    kb.import_faq("faq.csv", EXAMPLE)
    pair_id = next(p for p, v in kb.faq_pairs().items() if v["question"].startswith("补缴医保要交滞纳金"))
    new = "晚交医保每天要罚多少钱"
    before = service.ask(new)
    assert before.faq is None or before.faq.question != new
    kb.add_similar(pair_id, new)
    after = service.ask(new)
    assert after.faq is not None and after.faq.pair_id == pair_id and after.faq.question == new


def test_remove_pair_is_never_answered_again(kb, service):
    kb.import_faq("faq.csv", EXAMPLE)
    ans = service.ask("嘉峪关居民医保2025年缴费标准")
    assert ans.faq is not None
    kb.remove_pair(ans.faq.pair_id)
    again = service.ask("嘉峪关居民医保2025年缴费标准")
    assert again.faq is None and ans.faq.pair_id not in [c.doc_id for c in again.citations]


def test_xlsx_and_jsonl_import(kb):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["问题", "答案", "相似问法"])
    ws.append(["医保断缴后个人账户还能用吗", "断交期间个人账户不再划入,但已划入金额不受影响。",
               "个人账户断缴后能刷吗|断保了医保卡里的钱能用吗"])
    buf = io.BytesIO()
    wb.save(buf)
    assert kb.import_faq("list.xlsx", buf.getvalue()).added == 1
    line = json.dumps({"question": "断缴医保会影响买房吗",
                       "answer": "在一线城市,外埠户籍需要连续缴纳社保才能买房,断缴后连续年限重新计算。",
                       "similar_questions": ["断了医保对落户有影响吗"]}, ensure_ascii=False)
    assert kb.import_faq("list.jsonl", line.encode()).added == 1
    assert len(kb.faq_pairs()) == 2


def test_pairs_survive_a_rebuild(kb, settings, embedder):
    kb.import_faq("faq.csv", EXAMPLE)
    build_index(CORPUS, settings.index_dir, settings=settings, embedder=embedder, progress=False, force=True)
    data = store.load_index(settings.index_dir)
    assert len(data.catalog["faq"]) == 10 and data.delta is None
    assert sum(1 for c in data.chunks if c.get("kind") == "faq_q") == sum(
        1 + len(p["similar_questions"]) for p in data.catalog["faq"].values())


def test_admin_api_for_faq(settings, embedder):
    service = QAService.load(settings, settings.index_dir, embedder=embedder)
    with TestClient(create_app(settings, service)) as c:
        assert c.post("/api/faq", files={"file": ("faq.csv", EXAMPLE)}).status_code == 401
        r = c.post("/api/faq", files={"file": ("faq.csv", EXAMPLE)}, headers=AUTH)
        assert r.status_code == 201 and r.json()["added"] == 10
        bad = c.post("/api/faq", files={"file": ("faq.csv", EXAMPLE + ",只有答案,,,\n".encode())}, headers=AUTH)
        assert bad.status_code == 422 and bad.json()["problems"][0]["line"] == 12
        pairs = c.get("/api/faq").json()["pairs"]
        pid = pairs[0]["pair_id"]
        r = c.post(f"/api/faq/{pid}/similar", json={"question": "请问这个怎么弄"}, headers=AUTH)
        assert r.status_code == 200 and "请问这个怎么弄" in r.json()["similar_questions"]
        r = c.post("/api/faq/pairs", json={"question": "医保卡丢了怎么补办", "answer": "携带身份证到社保局窗口补办。"},
                   headers=AUTH)
        assert r.status_code == 201
        ans = c.post("/api/ask", json={"question": "医保卡丢了怎么补办"}).json()
        assert ans["faq"]["pair_id"] == r.json()["pair_id"] and ans["answer"].startswith("携带身份证")
        assert c.delete(f"/api/faq/{r.json()['pair_id']}", headers=AUTH).status_code == 200
        assert c.delete(f"/api/faq/{r.json()['pair_id']}", headers=AUTH).status_code == 404
        assert c.put("/api/faq/faq-000000000000", json={"question": "q", "answer": "a"}, headers=AUTH).status_code \
            == 404


def test_own_numbers_go_to_the_calculator_and_places_or_years_a_pair_does_not_name_to_the_articles(kb, service):
    kb.import_faq("faq.csv", EXAMPLE)
    # The pair's similar question "医保断了两个月…" says 两个月; five months is the asker's own number.
    own = service.ask("医保断了五个月，补缴后哪个月能用")
    assert own.faq is None and own.calculation is not None
    assert own.calculation.inputs.get("interruption_months") == 5
    # A region-less pair does not answer a question about 北京 (the articles say what they lack).
    beijing = service.ask("北京医保断了两个月，补缴后哪个月能用")
    assert beijing.faq is None
    # Article answers never quote a pair: every citation of a non-FAQ answer is an article.
    for q in ("断保以后再参保 大病保险的最高支付限额会降低吗", "医保断缴期间看病能报销吗"):
        ans = service.ask(q)
        assert ans.faq is None and all(not c.doc_id.startswith("faq-") for c in ans.citations), q


# A stored question typed the way users type (报险 for 保险), and the question written correctly.
TYPO = "自己交医疗报险怎么交"
WRITTEN = "自己交医疗保险怎么交"
TYPO_ANSWER = "没有单位的，可以带身份证到户籍地或居住地的医保经办机构办理城乡居民医保参保登记，按年缴费。"


def _readings(data: store.IndexData) -> dict[str, str]:
    return {c["matched"]: c["reading"] for i, c in enumerate(data.chunks) if c.get("reading") and i not in data.dead}


def test_a_stored_question_with_a_typo_is_found_by_the_question_written_correctly(kb, service, settings, embedder):
    line = json.dumps({"question": TYPO, "answer": TYPO_ANSWER}, ensure_ascii=False)
    assert kb.import_faq("list.jsonl", line.encode()).added == 1
    (pair_id,) = kb.faq_pairs()
    # Added live: the question is read against the base's vocabulary, as an asked question is.
    assert _readings(store.load_index(settings.index_dir)) == {TYPO: WRITTEN}
    ans = service.ask(WRITTEN)
    assert ans.status == "answered" and ans.faq is not None and ans.faq.pair_id == pair_id
    assert ans.faq.question == TYPO  # the pair's question as the list wrote it
    live = service.current()
    top = live.retriever.search(service.understand(WRITTEN, live), 5)[0]
    # The pair is found through its reading's own row (vector and BM25 row), closer than the typo's row.
    assert top.chunk["doc_id"] == pair_id and top.chunk.get("reading") == WRITTEN
    query = live.retriever.embed_query(service.understand(WRITTEN, live).text)
    assert top.faq_dense > float(live.retriever.embed_query(TYPO) @ query) + 0.01
    # A rebuild indexes the reading the same way.
    build_index(CORPUS, settings.index_dir, settings=settings, embedder=embedder, progress=False, force=True)
    data = store.load_index(settings.index_dir)
    assert data.delta is None and _readings(data) == {TYPO: WRITTEN}
    assert (settings.index_dir / "vocabulary.json").is_file()


def test_in_a_list_of_pairs_only_questions_are_read_against_the_pairs_as_written(tmp_path, test_settings, embedder):
    # An index of FAQ pairs only (the public FAQ benchmark's shape): 报险 is a word of this list ("report a
    # claim"), so it is kept where it means that, while 医疗报险 still reads as 医疗保险.
    rows = [["question", "answer"], [TYPO, TYPO_ANSWER],
            ["车子报险以后保险公司一直不派人怎么办", "可以拨打保险公司客服电话投诉，并保留报案记录。"],
            ["车辆报险维修时定损费低于修理费怎么办", "可以要求保险公司重新核定损失，协商不成的可申请第三方评估。"],
            ["医保断缴三个月以后还能补缴吗", "多数地区允许在规定期限内补缴医保，补缴后次月恢复待遇。"],
            ["职工医保和城乡居民医保有什么区别", "职工医保由单位和个人共同缴费，城乡居民医保按年由个人缴费。"]]
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    pairs = {p.pair_id: pair_record(p) for p in read_faq("faq.csv", buf.getvalue().encode()).pairs}
    s = test_settings.model_copy(update={"index_dir": tmp_path / "index", "kb_dir": tmp_path / "kb"})
    (tmp_path / "corpus").mkdir()
    build_index(tmp_path / "corpus", s.index_dir, settings=s, embedder=embedder, progress=False, faq=pairs)
    svc = QAService.load(s, s.index_dir, embedder=embedder)
    assert _readings(svc.data) == {TYPO: WRITTEN}
    typo_pair = next(pid for pid, p in pairs.items() if p["question"] == TYPO)
    assert svc.search(WRITTEN, 3)[0].doc_id == typo_pair
