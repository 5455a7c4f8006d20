import pytest

from ingest.chunk import chunk_document, heading_kind
from ingest.clean import clean_page
from tests.conftest import RAW

DOCS = sorted(RAW.glob("*.txt"))


def _chunks(path):
    text = clean_page(path.read_text(encoding="utf-8")).text
    return text, chunk_document(path.stem, "t", text)


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_offsets_reproduce_text_and_cover_document(path):
    text, chunks = _chunks(path)
    assert chunks
    for c in chunks:
        assert text[c.start : c.end] == c.text
        assert c.text == c.text.strip()
    # In order, non-overlapping, and nothing but whitespace between neighbours.
    for a, b in zip(chunks, chunks[1:]):
        assert a.end <= b.start and not text[a.end : b.start].strip()
    assert not text[: chunks[0].start].strip() and not text[chunks[-1].end :].strip()


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.stem)
def test_chunk_sizes_are_readable(path):
    _, chunks = _chunks(path)
    assert all(len(c.text) <= 400 for c in chunks)
    assert sum(len(c.text) for c in chunks) / len(chunks) >= 150


def test_heading_paths_follow_structure():
    _, chunks = _chunks(RAW / "002_fd26648b1f8121fa.txt")
    by_text = {c.heading_path: c for c in chunks}
    treatment = next(c for c in chunks if "90天的待遇等待期" in c.text)
    assert treatment.heading_path[0] == "补缴后待遇"
    fees = next(c for c in chunks if "每人每年400元" in c.text)
    assert fees.heading_path[0] == "甘肃嘉峪关居民医保的缴费标准是什么"
    assert by_text


def test_numbered_headings_nest_under_question_heading():
    _, chunks = _chunks(RAW / "003_4866c6536e7694db.txt")
    c = next(c for c in chunks if c.text.startswith("2.医保待遇暂停"))
    assert c.heading_path == ("天津断缴医保会有什么后果?", "2.医保待遇暂停")


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("一、居民医保缴费中断了怎么办", "cn"),
        ("(一)职工医保是指用人单位按照规定为职员参加的基本医疗保险。", None),
        ("1、职工补交方案:", "num"),
        ("1. 缴费时间限制 :连续3个月未缴费或累计中断6个月将停止享受医保待遇,需补缴后重新计算缴费年限。", None),
        ("补缴政策", "plain"),
        ("天津网上补交医保怎么补交?", "top"),
        ("• 身份证", None),
        ("甘肃嘉峪关居民医保的缴费标准如下:", None),
        ("流程:", None),
    ],
)
def test_heading_kind(line, kind):
    assert heading_kind(line) == kind


def test_long_section_split_at_sentence_end():
    text = "标题一\n\n" + "".join(f"这是第{i}句关于医保断缴补缴的说明文字。" for i in range(60))
    chunks = chunk_document("d", "t", text, min_chars=50, target_chars=120, max_chars=160)
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start : c.end] == c.text and len(c.text) <= 160
        assert c.text.endswith("。") or c is chunks[-1]
        assert c.heading_path == ("标题一",)
