"""`python -m eval external`: data-set conversion, hit logic, span check and the written report.

The end-to-end test runs on a hand-made miniature of both data sets (a few short documents),
so it needs neither the real data sets nor more than a few seconds of embedding.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import external, report
from eval.external import (
    DATA_DIR,
    FAQ,
    NCP,
    Dataset,
    Doc,
    Question,
    faq_hit,
    load_faq,
    load_ncp,
    ncp_title,
    score_question,
    write_corpus,
)
from ingest.build import build_index
from ingest.corpus import load_corpus

# ------------------------------------------------------------------------ hand-made data

FAQ_CORPUS = [
    ("医保断缴了怎么办", "医保断缴后应尽快到社保经办机构补缴，补缴后待遇从次月恢复。"),
    ("车险怎么理赔", "发生事故后先向保险公司报案，再提交\"事故认定书\"和维修发票。"),
    ("断了医保怎么处理", "医保断缴后应尽快到社保经办机构补缴，补缴后待遇从次月恢复。"),  # same answer as 1
    ("重疾险等待期多久", "重疾险的等待期一般为90天到180天，等待期内确诊不赔。"),
]
FAQ_TEST = [
    ("医保停缴以后怎么补", FAQ_CORPUS[0][1]),
    ("汽车出险理赔流程", FAQ_CORPUS[1][1]),
]

NCP_DOCS = {
    "d1": "关于阶段性减免社会保险费的通知 受疫情影响的中小微企业，2020年2月至6月"
          "免征养老保险、失业保险和工伤保险单位缴费部分。大型企业可减半征收，期限不超过3个月。",
    "d2": "城乡居民医保缴费期延长的公告 因疫情影响，2020年度城乡居民医保集中缴费期"
          "延长至4月30日，期间缴费不影响待遇享受。",
    "d3": "关于做好春运返程交通保障的通知 各地交通运输部门要错峰安排返程运力，加强车站消毒和体温检测。",
}
NCP_QA = {
    "train": [("中小微企业哪些社保费可以免征？", "d1", "养老保险、失业保险和工伤保险单位缴费部分"),
              ("城乡居民医保缴费期延长到哪天？", "d2", "4月30日")],
    "dev": [("城乡居民医保集中缴费期延长至什么时候？", "d2", "4月30日"),
            ("大型企业社保费如何减征？", "d1", "减半征收"),
            ("返程交通有哪些保障措施？", "d3", "错峰安排返程运力")],
}


def write_tsv(path: Path, rows: list[tuple[str, str]]) -> None:
    path.write_text("question\tanswer\n" + "".join(f"{q}\t{a}\n" for q, a in rows), encoding="utf-8")


@pytest.fixture
def mini_data(tmp_path: Path) -> Path:
    root = tmp_path / "external"
    (root / FAQ).mkdir(parents=True)
    write_tsv(root / FAQ / "corpus.tsv", FAQ_CORPUS)
    write_tsv(root / FAQ / "test.tsv", FAQ_TEST)
    (root / NCP).mkdir()
    for split, rows in NCP_QA.items():
        lines = []
        for i, (question, docid, answer) in enumerate(rows):
            ctx = NCP_DOCS[docid]
            start = ctx.index(answer)
            lines.append(json.dumps({"id": f"{split}-{i}", "docid": docid, "context": ctx, "question": question,
                                     "answer": {"text": answer, "span": [start, start + len(answer) - 1]}},
                                    ensure_ascii=False))
        (root / NCP / f"{split}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root


# ------------------------------------------------------------------------ conversion


def test_faq_conversion_ids_titles_and_equal_answers(mini_data: Path) -> None:
    ds = load_faq(mini_data / FAQ)
    assert [d.doc_id for d in ds.docs] == ["faq-00001", "faq-00002", "faq-00003", "faq-00004"]
    assert ds.docs[1].title == "车险怎么理赔"
    # QUOTE_NONE: quotes inside an answer are text, not CSV quoting.
    assert ds.docs[1].text == FAQ_CORPUS[1][1] and '"事故认定书"' in ds.docs[1].text
    q1, q2 = ds.splits["test"]
    assert q1.gold_docs == {"faq-00001", "faq-00003"}  # both pairs carry the test answer
    assert q2.gold_docs == {"faq-00002"}


def test_faq_test_answer_missing_from_corpus_is_an_error(mini_data: Path) -> None:
    write_tsv(mini_data / FAQ / "test.tsv", [("随便问问", "语料里没有的答案")])
    with pytest.raises(ValueError, match="no corpus pair"):
        load_faq(mini_data / FAQ)


def test_faq_hit_compares_answers_over_distinct_documents() -> None:
    answer_of = {"faq-00001": "甲", "faq-00002": "乙", "faq-00003": "甲", "faq-00004": "丙"}
    ranked = ["faq-00002", "faq-00002", "faq-00002", "faq-00004", "faq-00003"]
    assert faq_hit(ranked, answer_of, "甲", 1) == 0.0
    assert faq_hit(ranked, answer_of, "甲", 2) == 0.0  # distinct docs: 00002, 00004
    assert faq_hit(ranked, answer_of, "甲", 3) == 1.0  # 00003 has the same answer as 00001
    assert faq_hit(ranked, answer_of, "乙", 1) == 1.0
    assert faq_hit(ranked, answer_of, "甲 ", 10) == 0.0  # exact equality, no normalisation
    assert faq_hit([], answer_of, "甲", 3) == 0.0


def test_ncp_conversion_distinct_documents_and_splits(mini_data: Path) -> None:
    ds = load_ncp(mini_data / NCP)
    assert sorted(d.doc_id for d in ds.docs) == ["d1", "d2", "d3"]
    assert {s: len(qs) for s, qs in ds.splits.items()} == {"train": 2, "dev": 3}
    d1 = next(d for d in ds.docs if d.doc_id == "d1")
    assert d1.text == NCP_DOCS["d1"]  # the whole context: answer spans index into it
    assert d1.title == "关于阶段性减免社会保险费的通知"


def test_ncp_span_mismatch_is_an_error(mini_data: Path) -> None:
    path = mini_data / NCP / "dev.jsonl"
    rec = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    rec["answer"]["span"] = [0, 3]
    path.write_text(json.dumps(rec, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match="span"):
        load_ncp(mini_data / NCP)


def test_ncp_title_rule() -> None:
    headline = "农业农村部开展防控疫情专项法治宣传行动"
    assert ncp_title(f"{headline} 为切实做好新冠肺炎疫情防控工作") == headline
    # Headlines with inner spaces keep going until 12 characters.
    headline = "财政部 税务总局 关于支持疫情防控有关税收政策的公告"
    assert ncp_title(f"{headline} 为进一步做好") == headline
    assert len(ncp_title("通" * 200)) == 60


def test_limit_keeps_gold_documents_plus_n_others(mini_data: Path) -> None:
    ds = load_ncp(mini_data / NCP, limit=1)
    assert {s: [q.qid for q in qs] for s, qs in ds.splits.items()} == {"train": ["train-0"], "dev": ["dev-0"]}
    ids = {d.doc_id for d in ds.docs}
    assert {"d1", "d2"} <= ids and len(ids) == 3  # gold d1 (train) and d2 (dev) + one other


def test_written_corpus_is_read_by_ingest(mini_data: Path, tmp_path: Path) -> None:
    ds = load_faq(mini_data / FAQ)
    write_corpus(ds, tmp_path / "corpus")
    docs = load_corpus(tmp_path / "corpus")
    assert [(d.doc_id, d.title) for d in docs] == [(d.doc_id, d.title) for d in ds.docs]
    assert all(d.metadata == {"dataset": FAQ} for d in docs)


def test_span_check_on_retrieved_chunks() -> None:
    ds = Dataset(NCP, [Doc("d1", "t", "x")], {"dev": []})
    q = Question("q", "问", frozenset({"d1"}), "4月30日")
    ranked = [("d2", "别的文档"), ("d1", "缴费期延长至4月 30日，期间"), ("d1", "其他")]
    scores = score_question(ds, q, ranked)
    assert scores == {"doc_recall@1": 0.0, "doc_recall@5": 1.0, "span_top1": 0.0, "span_top5": 1.0}


def test_real_data_sets_convert_to_the_documented_counts() -> None:
    faq = load_faq(DATA_DIR / FAQ)
    assert len(faq.docs) == 3769 and len(faq.splits["test"]) == 100
    assert all(q.gold_docs for q in faq.splits["test"])
    ncp = load_ncp(DATA_DIR / NCP)
    assert len(ncp.docs) == 599
    assert {s: len(qs) for s, qs in ncp.splits.items()} == {"train": 600, "dev": 58}


# ------------------------------------------------------------------------ end to end


@pytest.mark.slow
def test_run_writes_report_with_every_system(mini_data: Path, tmp_path: Path, monkeypatch, test_settings,
                                             embedder) -> None:
    monkeypatch.setattr(report, "REPORTS_DIR", tmp_path / "reports")
    # A small grid: the full one is 147 settings; the code path is the same.
    monkeypatch.setattr(external, "BM25_RATIOS", (0.5, 2.0))
    monkeypatch.setattr(external, "RRF_KS", (60,))
    monkeypatch.setattr(external, "CANDIDATES", (30,))
    code = external.main(["--tune", "--data", str(mini_data), "--work", str(tmp_path / "work"), "-q"],
                         settings=test_settings, embedder=embedder)
    assert code == 0
    (folder,) = (tmp_path / "reports").iterdir()
    assert {p.name for p in folder.iterdir()} == {"report.md", "report.json", f"chart-{FAQ}.png", f"chart-{NCP}.png"}
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert data["tuned_on"] == "ncp_policies/train"
    for name, n_docs, n_q in ((FAQ, 4, 2), (NCP, 3, 3)):
        ds = data["datasets"][name]
        assert (ds["n_documents"], ds["n_questions"]) == (n_docs, n_q)
        assert {"hybrid (ours)", "BM25 only", "dense only", external.LANGCHAIN} <= set(ds["systems"])
        assert ds["ingest"]["ours"]["documents"] == n_docs
    faq = data["datasets"][FAQ]["systems"]["hybrid (ours)"]["scores"]
    assert faq["top10_acc"] == 1.0  # 4 documents: every answer is within the top 10
    assert data["datasets"][NCP]["systems"]["hybrid (ours)"]["scores"]["doc_recall@5"] == 1.0
    md = (folder / "report.md").read_text(encoding="utf-8")
    assert "published BM25 (jieba)" in md and "nothing was tuned on it" in md and "Tuning on ncp_policies train" in md
    # A re-run finds the index up to date instead of rebuilding it (same conversion, same settings).
    write_corpus(load_ncp(mini_data / NCP), tmp_path / "again")
    again = build_index(tmp_path / "again", tmp_path / "work" / NCP / "index", settings=test_settings,
                        embedder=embedder, progress=False)
    assert again.skipped and again.documents == 3
