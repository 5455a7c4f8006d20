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


def test_parse_args_parts_and_quick():
    args = bench.parse_args(["--only", "scale,http", "--quick"])
    assert args.parts == ["scale", "http"] and args.workers == [1] and args.http_seconds <= 2
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
