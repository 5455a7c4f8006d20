"""`python -m eval bench --quick` end to end: every part runs and the report is written. No timing asserts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from eval import bench, synthetic
from ingest.settings import get_settings

pytestmark = pytest.mark.slow


def test_quick_bench_writes_its_report(tmp_path):
    out = tmp_path / "report"
    # torch keeps the smoke run free of the one-off ONNX export (tested in test_embed.py)
    status = bench.main(["--quick", "--backend", "torch", "--only", "ingest,search,http,scale", "--out", str(out)],
                        settings=get_settings())
    assert status == 0
    for name in ("report.md", "report.json", "chart.png"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0
    data = json.loads((out / "report.json").read_text())
    assert not [k for k in data if k.endswith("_error")]
    ing = data["ingest"]
    assert ing["ours_reingest_unchanged"]["embedded"] == 0 and ing["ours_unchanged_detected"]["skipped"]
    assert ing["ours_changed"]["only_new_embedded"] and ing["ours_changed"]["embedded"] > 0
    assert ing["baseline_cold"]["embedded"] == ing["baseline_cold"]["chunks"] > 0
    assert data["search"]["ours_ask_own"]["n"] == data["search"]["questions"] == 5
    (run,) = data["http"]["runs"]
    assert "error" not in run and [lv["clients"] for lv in run["levels"]] == [1, 2]
    assert all(lv["ok"] > 0 and lv["errors"] == 0 for lv in run["levels"]) and run["peak_rss_mb"] > 50
    assert all(lv["server_cpu_ms"] > 0 and lv["client_cpu_ms"] > 0 for lv in run["levels"])
    split = run["levels"][1]["connections_per_process"]  # 2 clients, 1 worker (None if psutil may not look)
    assert split is None or split == [2]
    assert data["http"]["questions"] == 5 and data["http"]["default_workers"] >= 1
    kinds = {(r["n"], r["index"]) for r in data["scale"]["rows"]}
    assert (1000, "flat") in kinds and (4000, "hnsw") in kinds
    assert all(0.0 <= r["recall@10"] <= 1.0 for r in data["scale"]["rows"])
    md = (out / "report.md").read_text()
    assert "## Targets" in md and "## HTTP" in md and "## Dense index scaling" in md


def test_quick_update_and_conversation_parts(tmp_path):
    """A small synthetic index served by `python -m api`: a PDF added, replaced and deleted is seen in answers;
    asks go on while documents change; follow-ups keep their conversation. Behaviour only, no timing goals."""
    out = tmp_path / "report"
    status = bench.main(["--quick", "--backend", "torch", "--only", "conversation,update", "--out", str(out)],
                        settings=get_settings())
    assert status == 0
    data = json.loads((out / "report.json").read_text())
    assert not [k for k in data if k.endswith("_error")]
    u = data["update"]
    ix = u["index"]
    assert u["served_chunks"] == ix["chunks"] >= 45 and ix["copies"] > 0 and not ix["reused"]
    assert ix["embedded_by_model"] <= ix["original_chunks"] < ix["chunks"]  # copies' vectors are derived
    assert 0.8 < ix["derived_vs_true_cosine_mean"] <= 1.0 and ix["model_chunks_per_s"] > 0
    add, replace, delete = u["events"]
    assert [e["kind"] for e in u["events"]] == ["add", "replace", "delete"]
    assert (add["status"], replace["status"], delete["status"]) == (201, 200, 200)
    assert add["doc_id"].startswith("up-") and replace["doc_id"] == delete["doc_id"] == add["doc_id"]
    assert add["chunks"] > 5 and add["embedded"] > 0  # the five-page PDF, embedded by the server
    # each change was seen in an answer: the new document cited, then its new rule, then no longer cited
    assert all(e["confirmed"] and e["visible_s"] >= e["request_s"] > 0 and not e.get("error") for e in u["events"])
    assert u["all_confirmed"] and u["visible_max_s"] == max(e["visible_s"] for e in u["events"])
    churn = u["churn"]
    assert churn["changes"] >= 1 and churn["errors"] == 0 and churn["by_kind"]["POST"]["n"] >= 1
    assert u["warm_up"]["workers_reached"] == 1
    assert u["ask_errors"] == 0 and all(p["n"] > 0 for p in u["phases"].values())
    assert u["p95_ratio"] > 0
    c = data["conversation"]
    assert c["errors"] == 0 and c["dialogues"] == 1  # the README's: 职工医保断缴3个月怎么补 → 2 follow-ups
    assert c["followup"]["n"] == c["followups"] == c["followup_alone"]["n"] > 0
    assert c["followups_inherited"] > 0  # the follow-ups really were completed from their conversation
    assert c["ratio_followup_vs_same_alone"] > 0
    md = (out / "report.md").read_text()
    assert "## Knowledge-base changes" in md and "## Conversations" in md and "update_visible_s" in md


def test_notice_pdf_has_five_pages_and_its_rule():
    import io

    import pdfplumber

    from eval import bench_docs
    from eval.external import DATA_DIR, NCP, load_dataset
    from ingest.parse import parse_upload

    texts = [d.text for d in load_dataset(NCP, DATA_DIR).docs]
    v1, v2 = bench_docs.notice("青岚市", 1, 3), bench_docs.notice("青岚市", 2, 3)
    pdf = bench_docs.notice_pdf(v1, bench_docs.filler_paragraphs(texts))
    with pdfplumber.open(io.BytesIO(pdf)) as doc:
        assert len(doc.pages) == bench_docs.PAGES == 5
    parsed = parse_upload("notice.pdf", pdf, max_bytes=1 << 24)
    assert v1.marker in parsed.text and v2.marker not in parsed.text and parsed.title == v1.title
    assert bench_docs.rule_sentence(v1).replace("，", ",") in parsed.text.replace("，", ",")
    assert len(parsed.text) > 4000
    title, text = bench_docs.perturbed("2020年医保通知", "缴费基数4340元", 3, "成都")
    assert title == "5353年医保通知(成都转发)" and text.endswith("缴费基数7673元") and "成都" in text


def test_parse_args_parts_and_quick():
    args = bench.parse_args(["--only", "scale,http", "--quick"])
    assert args.parts == ["scale", "http"] and args.workers == [1] and args.http_seconds <= 2
    assert args.update_chunks <= 45 and args.update_rounds == 1 and args.conversation_rounds == 1
    full = bench.parse_args(["--only", "update,conversation"])
    assert full.parts == ["update", "conversation"] and full.update_chunks == 100_000
    assert set(bench.DEFAULT_PARTS) == set(bench.PARTS) >= {"update", "conversation"}
    # by default the server runs as `python -m api` would, then with 1 worker for comparison
    assert bench.parse_args([]).workers == list(dict.fromkeys([bench.default_workers(), 1]))
    with pytest.raises(SystemExit):
        bench.parse_args(["--only", "nonsense"])


def test_synthetic_vectors_are_normalised_and_seeded():
    a = synthetic.vectors(300, 32, "clustered", seed=1)
    assert a.dtype == np.float32 and np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.array_equal(a, synthetic.vectors(300, 32, "clustered", seed=1))
    q = synthetic.queries(300, 5, 32, "clustered", seed=1)
    assert np.allclose(np.linalg.norm(q, axis=1), 1, atol=1e-5)
    # a clustered query is much closer to its nearest vector than an isotropic one
    iso = synthetic.vectors(300, 32, "isotropic", seed=1)
    assert (q @ a.T).max(1).mean() > (synthetic.queries(300, 5, 32, "isotropic") @ iso.T).max(1).mean()


def test_targets_table():
    results = {"ingest": {"ratio_cold_chunks_per_s": 2.5, "reingest_speedup": 10.0},
               "scale": {"rows": [{"n": 1_000_000, "kind": "clustered", "p50_ms": 3.0, "recall@10": 0.97}]}}
    met = {r["target"]: r["met"] for r in bench.targets(results)}
    assert met == {"ingest_cold_ratio": True, "reingest_speedup": False, "scale_1m_p50_ms": True,
                   "scale_1m_recall": True}
