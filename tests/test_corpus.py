import json

import pytest

from ingest.corpus import CorpusError, load_corpus
from tests.conftest import CORPUS


def test_real_corpus_loads_with_metadata():
    docs = {d.doc_id: d for d in load_corpus(CORPUS)}
    assert set(docs) == {p.stem for p in (CORPUS / "raw").glob("*.txt")}
    tj = docs["003_4866c6536e7694db"]
    assert tj.metadata["regions"] == ["天津"] and tj.metadata["date"] == "2025-05-17"
    assert docs["002_fd26648b1f8121fa"].metadata["regions"] == ["甘肃嘉峪关"]
    assert docs["000_991f4531c80f9026"].metadata["date"] == "2021-07-17"


def test_txt_md_and_jsonl(tmp_path):
    (tmp_path / "a.txt").write_text("标题甲\n\n正文甲。", encoding="utf-8")
    (tmp_path / "b.md").write_text("# 标题乙\n\n正文乙。", encoding="utf-8")
    recs = [{"doc_id": "c1", "title": "丙", "text": "正文丙。", "metadata": {"regions": ["天津"]}}]
    (tmp_path / "c.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in recs), encoding="utf-8")
    docs = {d.doc_id: d for d in load_corpus(tmp_path)}
    assert docs["a"].title == "标题甲" and docs["a"].text == "正文甲。"
    assert docs["b"].title == "标题乙"
    assert docs["c1"].metadata["regions"] == ["天津"]


def test_undecodable_file_is_named(tmp_path):
    (tmp_path / "good.txt").write_text("标题\n\n正文。", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes("标题\n".encode("gbk") + b"\xff\xfe\x00")
    with pytest.raises(CorpusError, match=r"bad\.txt.*UTF-8"):
        load_corpus(tmp_path)


def test_bad_jsonl_line_is_named(tmp_path):
    (tmp_path / "d.jsonl").write_text('{"doc_id": "x", "title": "t", "text": "正文"}\n{not json\n', encoding="utf-8")
    with pytest.raises(CorpusError, match=r"d\.jsonl:2"):
        load_corpus(tmp_path)


@pytest.mark.parametrize(
    "rec", [{"doc_id": "../etc", "title": "t", "text": "x"}, {"doc_id": "ok", "title": 1, "text": "x"}, [1, 2]]
)
def test_invalid_jsonl_records(tmp_path, rec):
    (tmp_path / "d.jsonl").write_text(json.dumps(rec), encoding="utf-8")
    with pytest.raises(CorpusError, match=r"d\.jsonl:1"):
        load_corpus(tmp_path)


def test_duplicate_ids_and_empty_folder(tmp_path):
    with pytest.raises(CorpusError, match="no .txt"):
        load_corpus(tmp_path)
    (tmp_path / "x.txt").write_text("标题\n\n正文。", encoding="utf-8")
    (tmp_path / "d.jsonl").write_text(json.dumps({"doc_id": "x", "title": "t", "text": "y"}), encoding="utf-8")
    with pytest.raises(CorpusError, match="duplicate doc_id"):
        load_corpus(tmp_path)
