"""FAQ-list import (ingest/faq.py): formats, similar questions, bad rows by line, duplicates, limits, the
public insurance_faq set and the example list. No model, no index: every file is made here."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
import tomllib
import unicodedata
import zipfile
from dataclasses import FrozenInstanceError

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.faq import (
    COLUMNS,
    FAQFileError,
    FAQImport,
    FAQLimits,
    FAQPair,
    RowError,
    pair_id_for,
    question_key,
    read_faq,
)
from ingest.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "corpus" / "faq.example.csv"
RAW = PROJECT_ROOT / "corpus" / "raw"
PUBLIC_FAQ = PROJECT_ROOT / "eval" / "data" / "insurance_faq" / "corpus.tsv"

HEADER = ["question", "answer", "similar_questions", "region", "insurance_type", "source"]
ROWS = [
    ["医保断缴3个月内怎么补缴?", "断缴3个月以内的,多数地区允许补缴,补缴后次月恢复医保待遇。",
     "断缴不到三个月怎么补交|医保断了两个月能补吗", "", "职工医保", "003_4866c6536e7694db"],
    ["嘉峪关2025年居民医保个人交多少钱?", "2025年度个人缴费标准为每人每年400元。",
     "嘉峪关居民医保缴费标准｜嘉峪关医保一年交多少", "甘肃嘉峪关", "城乡居民医保", "002_fd26648b1f8121fa"],
    ["补缴要交滞纳金吗?", "部分地区需按日加收万分之五的滞纳金。", "", "", "", ""],
]


# --- helpers -----------------------------------------------------------------------------------------

def csv_bytes(rows: list[list[object]], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]], *, first_row: int = 1) -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for r, row in enumerate(rows, first_row):
        for c, value in enumerate(row, 1):
            if value is not None:
                sheet.cell(row=r, column=c, value=value)
    workbook.create_sheet("其他").append(["question", "answer"])  # only the first sheet is read
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def jsonl_bytes(lines: list[object]) -> bytes:
    return "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines).encode()


def rezip(data: bytes, replace: dict[str, bytes] | None = None, add: dict[str, bytes] | None = None) -> bytes:
    """A copy of a zip with some entries replaced or added (deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, (replace or {}).get(info.filename, src.read(info.filename)))
        for name, content in (add or {}).items():
            dst.writestr(name, content)
    return out.getvalue()


def problems(items: list[RowError]) -> list[tuple[int, str, str]]:
    return [(e.line, e.field, e.code) for e in items]


def file_error(filename: str, data: bytes, **kwargs: object) -> FAQFileError:
    with pytest.raises(FAQFileError) as info:
        read_faq(filename, data, **kwargs)  # type: ignore[arg-type]
    error = info.value
    assert error.message_zh and error.message_en and re.search(r"[\u4e00-\u9fff]", error.message_zh)
    return error


def assert_standard_pairs(result: FAQImport) -> None:
    assert result.ok and not result.warnings, (result.errors, result.warnings)
    assert [p.question for p in result.pairs] == [r[0] for r in ROWS]
    first, second, third = result.pairs
    assert first.similar_questions == ("断缴不到三个月怎么补交", "医保断了两个月能补吗")
    assert first.region is None and first.insurance_type == "职工医保" and first.source == "003_4866c6536e7694db"
    assert second.similar_questions == ("嘉峪关居民医保缴费标准", "嘉峪关医保一年交多少")
    assert second.region == "甘肃嘉峪关"
    assert third.similar_questions == () and third.region is third.source is None
    assert result.rows == 3


# --- formats -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_in_each_encoding_excel_writes(encoding: str) -> None:
    result = read_faq("常见问题.csv", csv_bytes([HEADER, *ROWS], encoding=encoding))
    assert result.format == "csv"
    assert_standard_pairs(result)


def test_the_same_list_gives_the_same_pairs_in_every_format() -> None:
    objects = [dict(zip(HEADER, row)) for row in ROWS]
    results = [
        read_faq("a.csv", csv_bytes([HEADER, *ROWS])),
        read_faq("a.tsv", csv_bytes([HEADER, *ROWS], delimiter="\t")),
        read_faq("a.xlsx", xlsx_bytes([HEADER, *ROWS])),
        read_faq("a.jsonl", jsonl_bytes(objects)),
    ]
    assert [r.format for r in results] == ["csv", "tsv", "xlsx", "jsonl"]
    for result in results:
        assert_standard_pairs(result)
        assert result.pairs == results[0].pairs


def test_tsv_quoted_cells_and_unquoted_tsv() -> None:
    rows = [["问题", "答案", "相似问法"],
            ["断缴怎么补?", '第一段:带"身份证"\n第二段:\t社保卡', "断交怎么补\n断保怎么补"],
            ["补缴后多久生效?", "次月生效。", ""]]
    result = read_faq("faq.TSV", csv_bytes(rows, delimiter="\t"))
    assert result.ok and result.format == "tsv"
    assert result.pairs[0].answer == '第一段:带"身份证"\n第二段:\t社保卡'
    assert result.pairs[0].similar_questions == ("断交怎么补", "断保怎么补")
    # The quoted record spans lines 2-4, so the next record starts on line 5 and is reported there.
    rows[2][1] = ""
    assert problems(read_faq("faq.tsv", csv_bytes(rows, delimiter="\t")).errors) == [(5, "answer", "empty_answer")]
    # Plain "a<TAB>b" lines with quotes inside the text, as eval/data's corpus.tsv is written.
    plain = 'question\tanswer\n他说"能补"吗?\t能,补缴后次月恢复。\n'.encode()
    pairs = read_faq("x.tsv", plain).pairs
    assert [(p.question, p.answer) for p in pairs] == [('他说"能补"吗?', "能,补缴后次月恢复。")]


@pytest.mark.parametrize("delimiter", ["\t", ";"])
def test_csv_named_file_with_another_delimiter(delimiter: str) -> None:
    result = read_faq("export.csv", csv_bytes([HEADER, *ROWS], delimiter=delimiter))
    assert_standard_pairs(result)


def test_xlsx_numbers_dates_empty_cells_and_sheet_rows() -> None:
    import datetime as dt

    rows = [["问题", "答案", "相似问法", "地区", "来源"],
            ["嘉峪关个人缴费多少?", 400, "嘉峪关交多少钱\n嘉峪关一年多少钱", None, None],
            [None, None, None, None, None],  # blank row: skipped, but it still counts for line numbers
            [12333, "医保服务热线。", None, None, dt.datetime(2025, 5, 17)],
            ["缴费比例?", 4.5, None, None, None],
            ["没有答案的问题", None, None, None, None]]
    result = read_faq("list.xlsx", xlsx_bytes(rows, first_row=3))  # header on sheet row 3
    assert [(p.question, p.answer) for p in result.pairs] == [
        ("嘉峪关个人缴费多少?", "400"), ("12333", "医保服务热线。"), ("缴费比例?", "4.5")]
    assert result.pairs[0].similar_questions == ("嘉峪关交多少钱", "嘉峪关一年多少钱")
    assert result.pairs[1].source == "2025-05-17"
    assert problems(result.errors) == [(8, "answer", "empty_answer")]
    assert result.rows == 4


def test_xlsx_with_a_wrong_dimension_is_read_to_the_end() -> None:
    data = xlsx_bytes([HEADER, *ROWS])
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    assert b'<dimension ref="A1:F4"/>' in sheet
    data = rezip(data, replace={"xl/worksheets/sheet1.xml": sheet.replace(b'ref="A1:F4"', b'ref="A1"')})
    assert_standard_pairs(read_faq("a.xlsx", data))


def test_jsonl_lists_strings_aliases_and_bad_lines() -> None:
    lines: list[object] = [
        {"question": "断缴怎么补?", "answer": "带身份证、社保卡补缴。",
         "similar_questions": ["断交怎么补", "断保怎么补"]},
        "",
        {"问题": "嘉峪关交多少?", "答案": 400, "相似问法": "嘉峪关缴费标准|嘉峪关一年交多少", "地区": "甘肃嘉峪关",
         "备注": "x"},
        "{not json",
        '["a list", "not an object"]',
        {"question": "滞纳金?", "answer": None},
        {"question": "等待期?"},
        {"question": ["不是文字"], "answer": "x"},
        {"question": "比例?", "answer": True},
        '{"question": "NaN?", "answer": NaN}',
        {"question": "相似问法类型?", "answer": "x", "similar_questions": [{"a": 1}]},
        {"question": "两次?", "问题": "两次?", "answer": "x"},
    ]
    result = read_faq("faq.jsonl", jsonl_bytes(lines))
    assert result.format == "jsonl"
    assert [p.question for p in result.pairs] == ["断缴怎么补?", "嘉峪关交多少?"]
    assert result.pairs[0].similar_questions == ("断交怎么补", "断保怎么补")
    assert result.pairs[1].answer == "400" and result.pairs[1].region == "甘肃嘉峪关"
    assert result.pairs[1].similar_questions == ("嘉峪关缴费标准", "嘉峪关一年交多少")
    assert problems(result.errors) == [
        (4, "row", "bad_json"), (5, "row", "bad_json"), (6, "answer", "empty_answer"), (7, "answer", "empty_answer"),
        (8, "question", "bad_type"), (9, "answer", "bad_type"), (10, "row", "bad_json"),
        (11, "similar_questions", "bad_type"), (12, "question", "bad_json")]
    assert problems(result.warnings) == [(3, "备注", "unknown_column")]
    assert result.rows == 11


def test_similar_questions_split_cleaned_and_deduplicated_within_a_row() -> None:
    cell = " 断交怎么补 |断保怎么补｜断交怎么补\n\n医保断缴怎么补?|| 断缴 怎么补 |"
    rows = [["question", "answer", "similar_questions"], ["医保断缴怎么补?", "补缴。", cell]]
    result = read_faq("a.csv", csv_bytes(rows))
    pair = result.pairs[0]
    # Repeats of another similar question or of the main question (after normalisation) go quietly.
    assert pair.similar_questions == ("断交怎么补", "断保怎么补", "断缴 怎么补")
    assert pair.all_questions == ("医保断缴怎么补?", "断交怎么补", "断保怎么补", "断缴 怎么补")
    assert result.ok and not result.warnings


@pytest.mark.parametrize("header", [
    ["问题", "答案", "相似问法", "地区", "险种", "来源"],
    ["Question", "ANSWER", "Similar Questions", "Region", "insurance-type", "Source"],
    ["ｑｕｅｓｔｉｏｎ", " answer ", "similar_questions", "region", "insurance_type", "source"],
])
def test_header_aliases(header: list[str]) -> None:
    assert_standard_pairs(read_faq("a.csv", csv_bytes([header, *ROWS])))


def test_columns_in_any_order_and_optional_columns_absent() -> None:
    result = read_faq("a.csv", csv_bytes([["答案", "问题"], ["补缴后次月恢复。", "断缴后多久恢复?"]]))
    assert result.ok
    assert result.pairs == [FAQPair(pair_id=pair_id_for("断缴后多久恢复?"), question="断缴后多久恢复?",
                                    answer="补缴后次月恢复。")]


def test_text_is_cleaned_not_rewritten() -> None:
    rows = [["question", "answer"], ["  医保\u3000断缴\u200b怎么办?\x07 ", "第一行  \r\n\r\n第二行\u202e\x01\t尾  \n"]]
    pair = read_faq("a.csv", csv_bytes(rows)).pairs[0]
    assert pair.question == "医保 断缴怎么办?"
    assert pair.answer == "第一行\n\n第二行\t尾"


# --- ids -----------------------------------------------------------------------------------------------

def test_pair_ids_are_stable_and_ignore_spacing_and_full_width_forms() -> None:
    first = read_faq("a.csv", csv_bytes([HEADER, *ROWS])).pairs
    again = read_faq("b.xlsx", xlsx_bytes([HEADER, *reversed(ROWS)])).pairs
    assert {p.pair_id for p in first} == {p.pair_id for p in again}
    pair_id = first[0].pair_id
    assert re.fullmatch(r"faq-[0-9a-f]{12}", pair_id)
    assert pair_id == "faq-" + hashlib.sha256(question_key(ROWS[0][0]).encode()).hexdigest()[:12]
    for variant in ["医保断缴３个月内怎么补缴？", " 医保 断缴 3个月内怎么补缴 ? ", "医保断缴3个月内\u200c怎么补缴?"]:
        assert pair_id_for(variant) == pair_id
    assert pair_id_for("医保断缴4个月内怎么补缴?") != pair_id
    assert len({p.pair_id for p in first}) == 3


def test_pairs_are_frozen() -> None:
    pair = read_faq("a.csv", csv_bytes([HEADER, *ROWS])).pairs[0]
    with pytest.raises(FrozenInstanceError):
        pair.answer = "别的答案"  # type: ignore[misc]
    assert [f for f in COLUMNS if not hasattr(pair, f)] == []


# --- bad rows ------------------------------------------------------------------------------------------

def test_each_bad_row_kind_is_reported_on_its_own_line() -> None:
    limits = FAQLimits(max_question_chars=20, max_answer_chars=40, max_similar=3, max_meta_chars=10)
    rows = [
        ["question", "answer", "similar_questions", "region", "source"],   # line 1
        ["好问题一?", "好答案一。", "", "", ""],                              # 2
        ["没有答案?"],                                                      # 3: short row, answer missing
        ["答案为空?", "", "", "", ""],                                        # 4
        ["答案只有空白?", " \u3000 ", "", "", ""],                             # 5
        ["", "有答案没问题。", "a|b", "", ""],                                  # 6
        ["问" * 21, "答案。", "", "", ""],                                   # 7
        ["答案太长?", "答" * 41, "", "", ""],                                 # 8
        ["相似太长?", "答案。", "短的|" + "长" * 21, "", ""],                  # 9
        ["相似太多?", "答案。", "一|二|三|四", "", ""],                       # 10
        ["地区太长?", "答案。", "", "地" * 11, ""],                           # 11
        ["来源太长?", "答案。", "", "", "源" * 11],                           # 12
        ["", "", "", "", ""],                                              # 13: blank, skipped quietly
        ["好问题二?", "好答案二。", "", "", ""],                              # 14
    ]
    result = read_faq("a.csv", csv_bytes(rows), limits=limits)
    assert problems(result.errors) == [
        (3, "answer", "empty_answer"), (4, "answer", "empty_answer"), (5, "answer", "empty_answer"),
        (6, "question", "empty_question"), (7, "question", "question_too_long"), (8, "answer", "answer_too_long"),
        (9, "similar_questions", "similar_too_long"), (10, "similar_questions", "too_many_similar"),
        (11, "region", "value_too_long"), (12, "source", "value_too_long")]
    assert [p.question for p in result.pairs] == ["好问题一?", "好问题二?"]
    assert not result.ok and result.rows == 12
    for error in result.errors:
        assert f"第{error.line}行" in error.message_zh and f"line {error.line}" in error.message_en
    assert "21" in result.errors[4].message_zh and "20" in result.errors[4].message_en


def test_a_question_with_two_different_answers_excludes_every_row_involved() -> None:
    rows = [["question", "answer", "similar_questions"],
            ["断缴后多久恢复待遇?", "次月恢复。", ""],                          # 2
            ["补缴要带什么?", "身份证、社保卡。", ""],                          # 3
            ["断缴后多久恢复待遇？", "第三个自然月恢复。", ""],                 # 4: full-width ？, other answer
            ["停保后怎么恢复?", "补缴后申请。", "补缴要带什么 ?"],              # 5: similar = line 3's question
            ["滞纳金怎么算?", "按日万分之五。", ""]]                            # 6
    result = read_faq("a.csv", csv_bytes(rows))
    assert problems(result.errors) == [(2, "question", "conflicting_answer"), (3, "question", "conflicting_answer"),
                                       (4, "question", "conflicting_answer"),
                                       (5, "similar_questions", "conflicting_answer")]
    assert "第4行" in result.errors[0].message_zh and "line 2" in result.errors[2].message_en
    assert "第3行" in result.errors[3].message_zh
    assert [p.question for p in result.pairs] == ["滞纳金怎么算?"]
    with pytest.raises(FAQFileError) as info:
        result.usable_pairs()
    assert info.value.code == "rows_have_errors" and "--skip-bad" in info.value.message_en
    assert result.usable_pairs(skip_bad=True) == result.pairs


def test_the_same_question_with_the_same_answer_is_merged_with_a_warning() -> None:
    rows = [["question", "answer", "similar_questions", "region", "source"],
            ["断缴后多久恢复待遇?", "补缴后次月恢复。", "断保后多久恢复", "", "003"],     # 2
            ["补缴要带什么?", "身份证、社保卡。", "", "", ""],                              # 3
            ["断缴后 多久恢复待遇？", "补缴后次月恢复。", "断交后多久能报销", "天津", "004"],  # 4: same pair again
            ["断缴了多久能报销?", "补缴后次月恢复。", "断交后多久能报销", "", ""]]          # 5: shares a similar
    result = read_faq("a.csv", csv_bytes(rows))
    assert result.ok
    assert problems(result.warnings) == [(4, "question", "duplicate_merged"),
                                         (5, "similar_questions", "duplicate_merged")]
    assert "第2行" in result.warnings[0].message_zh and "来源" in result.warnings[0].message_zh
    merged, other = result.pairs
    assert merged.question == "断缴后多久恢复待遇?" and merged.pair_id == pair_id_for("断缴后多久恢复待遇?")
    assert merged.similar_questions == ("断保后多久恢复", "断交后多久能报销", "断缴了多久能报销?")
    assert (merged.region, merged.source) == ("天津", "003")  # filled where empty, first row wins otherwise
    assert other.question == "补缴要带什么?"
    assert result.usable_pairs() == result.pairs


def test_many_rows_with_one_question_are_handled_in_linear_time() -> None:
    import time

    n = FAQLimits().max_rows
    conflicting = [["question", "answer"]] + [["同一个问题?", f"答案{i % 3}"] for i in range(n)]
    start = time.perf_counter()
    result = read_faq("a.csv", csv_bytes(conflicting))
    assert time.perf_counter() - start < 5
    assert len(result.errors) == n and result.pairs == []
    # Line 2 gives answer 0; rows with another answer: line 3 and n - len(range(0, n, 3)) - 1 more.
    more = n - len(range(0, n, 3)) - 1
    assert f"also appears on line 3 (and {more} more) with a different answer" in result.errors[0].message_en
    assert f"第3行(另有{more}行)" in result.errors[0].message_zh
    assert "also appears on line 2 (and" in result.errors[1].message_en
    identical = [["question", "answer"]] + [["同一个问题?", "同一个答案。"]] * n
    result = read_faq("a.csv", csv_bytes(identical))
    assert result.ok and len(result.pairs) == 1 and len(result.warnings) == n - 1


def test_unknown_column_warnings_are_capped() -> None:
    header = ["question", "answer", *(f"备注{i}" for i in range(100))]
    result = read_faq("a.csv", csv_bytes([header, ["问题?", "答案。"]]))
    assert result.ok and len(result.warnings) == 21
    assert result.warnings[-1].field == "row" and "more unknown columns" in result.warnings[-1].message_en
    objects = [{"question": f"问题{i}?", "answer": "答案。", f"键{i}": 1} for i in range(50)]
    result = read_faq("a.jsonl", jsonl_bytes(objects))
    assert result.ok and len(result.warnings) == 21 and "more unknown keys" in result.warnings[-1].message_en


def test_rows_joined_only_through_a_later_row_are_merged() -> None:
    rows = [["question", "answer", "similar_questions"],
            ["断缴后多久恢复?", "次月恢复。", ""],                     # 2
            ["断保后多久能用?", "次月恢复。", ""],                     # 3: shares nothing with line 2 ...
            ["断交后多久报销?", "次月恢复。", "断缴后多久恢复?|断保后多久能用?"]]  # 4: ... until line 4
    result = read_faq("a.csv", csv_bytes(rows))
    assert result.ok and len(result.pairs) == 1
    assert result.pairs[0].all_questions == ("断缴后多久恢复?", "断保后多久能用?", "断交后多久报销?")
    assert problems(result.warnings) == [(3, "question", "duplicate_merged"),
                                         (4, "similar_questions", "duplicate_merged")]
    assert "line 4" in result.warnings[0].message_en and "into line 2" in result.warnings[0].message_en


def test_a_merge_may_not_exceed_the_similar_question_limit() -> None:
    rows = [["question", "answer", "similar_questions"], ["问题?", "答案。", "一|二"], ["问题?", "答案。", "三"],
            ["别的问法?", "答案。", "四|一"]]
    result = read_faq("a.csv", csv_bytes(rows), limits=FAQLimits(max_similar=3))
    assert problems(result.errors) == [(3, "question", "too_many_similar"),
                                       (4, "similar_questions", "too_many_similar")]
    assert "5" in result.errors[0].message_en
    assert [p.all_questions for p in result.pairs] == [("问题?", "一", "二")]
    assert read_faq("a.csv", csv_bytes(rows[:3]), limits=FAQLimits(max_similar=3)).ok


def test_unknown_columns_and_extra_cells_are_warnings() -> None:
    rows = [["question", "answer", "备注", "", "Owner"],
            ["断缴怎么补?", "补缴。", "内部", "", "张三"],
            ["补缴要带什么?", "身份证。", "", "", "", "多出来的"],
            ["滞纳金?", "万分之五。", "", "", "", "又一个"]]
    result = read_faq("a.csv", csv_bytes(rows))
    assert result.ok and len(result.pairs) == 3
    assert problems(result.warnings) == [(1, "备注", "unknown_column"), (1, "Owner", "unknown_column"),
                                         (3, "row", "extra_cells")]


def test_bad_rows_never_raise() -> None:
    rows = [["question", "answer", "similar_questions", "region"],
            ["\x01\x02", "\x7f", "|||", "\u202e"], ["?" * 600, "", "\n" * 70, "地" * 300]]
    result = read_faq("a.csv", csv_bytes(rows))
    assert not result.ok and result.pairs == []


# --- file-level problems ---------------------------------------------------------------------------

@pytest.mark.parametrize("filename,data,code", [
    ("a.csv", b"", "empty_file"),
    ("a.csv", b" \r\n\n ", "empty_file"),
    ("a.csv", b"\xef\xbb\xbf", "empty_file"),
    ("a.tsv", b"\n\n\t\t\n", "empty_file"),
    ("a.jsonl", b"\n\n", "empty_file"),
    ("a.csv", b"question,answer\n", "no_rows"),
    ("a.csv", "问题,答案\n,\n".encode(), "no_rows"),
])
def test_empty_files(filename: str, data: bytes, code: str) -> None:
    assert file_error(filename, data).code == code


@pytest.mark.parametrize("rows,line", [
    ([["断缴怎么补?", "补缴。"], ["补缴要带什么?", "身份证。"]], 1),   # no header: first line is data
    ([["问", "答"], ["断缴怎么补?", "补缴。"]], 1),                     # wrong header
    ([["question", "回答内容"], ["断缴怎么补?", "补缴。"]], 1),          # answer column missing
    ([[], ["", ""], ["answer", "similar_questions"], ["x", "y"]], 3),  # first non-empty line is the header
])
def test_missing_or_wrong_header(rows: list[list[str]], line: int) -> None:
    error = file_error("a.csv", csv_bytes(rows))
    assert (error.code, error.line) == ("bad_header", line)
    assert "question" in error.message_en and "answer" in error.message_en


def test_a_column_given_twice_is_a_header_error() -> None:
    error = file_error("a.csv", csv_bytes([["question", "问题", "answer"], ["a", "b", "c"]]))
    assert error.code == "bad_header"


def test_undecodable_and_binary_bytes() -> None:
    good = "question,answer\n断缴怎么补?,补缴。\n".encode()
    error = file_error("a.csv", good + b"\xff\xfe\xff,x\n")
    assert (error.code, error.line) == ("undecodable", 3)
    error = file_error("a.csv", "question,answer\ncafé,x\n".encode("latin-1"))
    assert (error.code, error.line) == ("undecodable", 2)
    error = file_error("a.tsv", good + b"a\x00b\tc\n")
    assert (error.code, error.line) == ("binary", 3)
    assert file_error("a.jsonl", b'{"question": "\xff"}').code == "undecodable"


@pytest.mark.parametrize("filename,hint", [("a.xls", ".xlsx"), ("a.json", ".jsonl"), ("a.txt", ""), ("csv", ""),
                                           (".csv", "")])
def test_unsupported_extensions(filename: str, hint: str) -> None:
    error = file_error(filename, b"question,answer\na,b\n")
    assert error.code == "unsupported_type" and hint in error.message_en


def test_content_of_another_type() -> None:
    workbook = xlsx_bytes([HEADER, *ROWS])
    assert file_error("a.csv", workbook).code == "type_mismatch"
    assert file_error("a.jsonl", workbook).code == "type_mismatch"
    assert file_error("a.xlsx", csv_bytes([HEADER, *ROWS])).code == "malformed_xlsx"
    assert file_error("a.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100).code == "encrypted_or_xls"


def test_malformed_workbooks() -> None:
    good = xlsx_bytes([HEADER, *ROWS])
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    # A cell that points at a shared string the workbook does not have.
    bad_index = re.sub(rb'<c r="A2" t="inlineStr"><is><t>[^<]*</t></is></c>', b'<c r="A2" t="s"><v>99</v></c>', sheet)
    assert bad_index != sheet
    not_a_workbook = io.BytesIO()
    with zipfile.ZipFile(not_a_workbook, "w") as zf:
        zf.writestr("readme.txt", "hello")
    bad = [
        not_a_workbook.getvalue(),
        good[: len(good) // 2],                                                     # truncated
        rezip(good, replace={"xl/worksheets/sheet1.xml": b"<worksheet><sheetData><row r='1'><c"}),
        rezip(good, replace={"xl/workbook.xml": b"not xml at all"}),
        rezip(good, replace={"xl/worksheets/sheet1.xml": bad_index}),
        rezip(good, replace={"[Content_Types].xml": b"<Types"}),
    ]
    for data in bad:
        assert file_error("a.xlsx", data).code == "malformed_xlsx"


def test_workbook_with_a_dtd_is_refused() -> None:
    good = xlsx_bytes([HEADER, *ROWS])
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        sheet = zf.read("xl/worksheets/sheet1.xml")
    doctype = b'<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]>'
    data = rezip(good, replace={"xl/worksheets/sheet1.xml": doctype + sheet})
    assert file_error("a.xlsx", data).code == "malformed_xlsx"


def test_zip_bombs_are_refused_before_openpyxl_opens_them(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_open(*args: object, **kwargs: object) -> None:
        raise AssertionError("openpyxl was asked to open a zip bomb")

    monkeypatch.setattr(openpyxl, "load_workbook", must_not_open)
    good = xlsx_bytes([HEADER, *ROWS])
    # One highly compressible entry: 4 MB of zeros compress about 1000:1.
    bomb = rezip(good, add={"xl/media/image1.bin": b"\x00" * (4 * 1024 * 1024)})
    assert len(bomb) < 100_000
    assert file_error("a.xlsx", bomb).code == "zip_bomb"
    # The declared total over the limit (a plain workbook is about 10 KB uncompressed).
    assert file_error("a.xlsx", good, limits=FAQLimits(max_xlsx_uncompressed_bytes=2000)).code == "zip_bomb"
    # Too many entries.
    many = rezip(good, add={f"xl/media/{i}.bin": b"x" for i in range(1001)})
    assert file_error("a.xlsx", many).code == "zip_bomb"


# --- limits ----------------------------------------------------------------------------------------------

def test_row_limit_in_every_format() -> None:
    limits = FAQLimits(max_rows=3)
    rows = [[f"问题{i}?", f"答案{i}。"] for i in range(4)]
    objects = [{"question": q, "answer": a} for q, a in rows]
    assert read_faq("a.csv", csv_bytes([["question", "answer"], *rows[:3]]), limits=limits).ok
    for filename, data, line in [
        ("a.csv", csv_bytes([["question", "answer"], [], *rows]), 6),
        ("a.tsv", csv_bytes([["question", "answer"], *rows], delimiter="\t"), 5),
        ("a.xlsx", xlsx_bytes([["question", "answer"], *rows]), 5),
        ("a.jsonl", jsonl_bytes(objects), 4),
    ]:
        error = file_error(filename, data, limits=limits)
        assert (error.code, error.line) == ("too_many_rows", line), filename
        assert "3" in error.message_zh


def test_byte_limit() -> None:
    data = csv_bytes([HEADER, *ROWS])
    assert file_error("a.csv", data, limits=FAQLimits(max_bytes=len(data) - 1)).code == "too_large"
    assert read_faq("a.csv", data, limits=FAQLimits(max_bytes=len(data))).ok


def test_limits_must_be_positive_integers() -> None:
    for bad in ({"max_rows": 0}, {"max_answer_chars": -1}, {"max_similar": 2.5}, {"max_bytes": True}):
        with pytest.raises(ValueError):
            FAQLimits(**bad)  # type: ignore[arg-type]


def test_fields_exactly_at_the_limits_are_accepted() -> None:
    limits = FAQLimits()
    similar = "|".join(f"问法{i}" for i in range(limits.max_similar))
    rows = [["question", "answer", "similar_questions", "region"],
            ["问" * limits.max_question_chars, "答" * limits.max_answer_chars, similar, "地" * limits.max_meta_chars]]
    result = read_faq("a.csv", csv_bytes(rows))
    assert result.ok and len(result.pairs[0].similar_questions) == limits.max_similar


def test_a_csv_field_over_the_csv_module_limit_is_a_file_error() -> None:
    data = ("question,answer\n断缴?,好\n补缴?," + "长" * 140_000 + "\n").encode()
    error = file_error("a.csv", data)
    assert (error.code, error.line) == ("bad_csv", 3)


# --- the public insurance_faq set -------------------------------------------------------------------

def public_pairs() -> list[tuple[str, str]]:
    with PUBLIC_FAQ.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["question", "answer"]
    return [(q, a) for q, a in rows[1:]]


def test_every_public_pair_imports_without_error() -> None:
    pairs = public_pairs()
    assert len(pairs) == 3769
    # The limits keep headroom over the set's measured maxima (49 and 7,965 characters).
    limits = FAQLimits()
    assert max(len(q) for q, _ in pairs) == 49 <= limits.max_question_chars // 10
    assert max(len(a) for _, a in pairs) == 7965 <= limits.max_answer_chars // 2
    assert len(pairs) <= limits.max_rows // 5

    data = csv_bytes([["question", "answer"], *pairs], delimiter="\t")
    assert len(data) <= limits.max_bytes // 8
    result = read_faq("insurance_faq.tsv", data)
    assert result.ok, result.errors[:5]
    assert result.rows == 3769
    # Lines 1844 and 1845 differ only by a full-width comma and share their answer: merged, with a warning.
    assert problems(result.warnings) == [(1845, "question", "duplicate_merged")]
    assert len(result.pairs) == 3768
    by_question = {question_key(q): p for p in result.pairs for q in p.all_questions}
    for question, answer in pairs:
        pair = by_question[question_key(question)]
        assert pair.answer == answer
    assert len({p.pair_id for p in result.pairs}) == 3768
    # The original file as it is stored (unquoted TSV) gives the same pairs.
    assert read_faq("corpus.tsv", PUBLIC_FAQ.read_bytes()).pairs == result.pairs


# --- the example list ---------------------------------------------------------------------------------

def test_the_example_list_parses_cleanly_and_restates_its_articles() -> None:
    data = EXAMPLE.read_bytes()
    assert data.decode("utf-8").splitlines()[0] == "question,answer,similar_questions,region,source"
    result = read_faq(EXAMPLE.name, data)
    assert result.ok and not result.warnings, (result.errors, result.warnings)
    assert 6 <= len(result.pairs) <= 10 and result.rows == len(result.pairs)
    sources = tomllib.loads((PROJECT_ROOT / "corpus" / "sources.toml").read_text(encoding="utf-8"))
    for pair in result.pairs:
        assert 2 <= len(pair.similar_questions) <= 4, pair.question
        assert re.search("断缴|断交|断保|补缴|补交|欠费|中断|缴费", "".join(pair.all_questions)), pair.question
        article = (RAW / f"{pair.source}.txt").read_text(encoding="utf-8")
        # Every number the answer states is in the article it names.
        plain = unicodedata.normalize("NFKC", article)
        for number in re.findall(r"\d+", unicodedata.normalize("NFKC", pair.answer)):
            assert number in plain, (pair.question, number)
        if pair.region:
            assert pair.region in sources[pair.source]["regions"]
    answers = {p.source: p.answer for p in result.pairs}
    assert any("次月恢复" in p.answer for p in result.pairs)
    assert any("身份证" in p.answer and "社保卡" in p.answer for p in result.pairs)
    assert any("万分之五" in p.answer for p in result.pairs)
    assert any("400元" in p.answer and p.region == "甘肃嘉峪关" for p in result.pairs)
    assert len(answers) == 5  # every article is used


# --- robustness ---------------------------------------------------------------------------------------

cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=0, max_size=7), min_size=1, max_size=6),
       st.sampled_from(["a.csv", "a.tsv"]))
def test_any_table_gives_a_result_or_a_file_error(rows: list[list[str]], filename: str) -> None:
    data = csv_bytes([["question", "answer", "similar_questions"], *rows],
                     delimiter="\t" if filename.endswith("tsv") else ",")
    try:
        result = read_faq(filename, data)
    except FAQFileError:
        return
    for pair in result.pairs:
        assert pair.question and pair.answer and pair.pair_id == pair_id_for(pair.question)
    assert len({p.pair_id for p in result.pairs}) == len(result.pairs)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=300), st.sampled_from(["a.csv", "a.tsv", "a.jsonl", "a.xlsx"]))
def test_any_bytes_give_a_result_or_a_file_error(data: bytes, filename: str) -> None:
    with contextlib.suppress(FAQFileError):
        read_faq(filename, data)


def test_a_stored_question_whose_reading_differs_is_indexed_as_one_more_way_of_asking() -> None:
    from ingest.faq_units import pair_rows
    from ingest.lexicon import Lexicon, lexicon_of
    from qa.terms import TermWeights

    lexicon = Lexicon({"医保": 30, "保险": 12, "补缴": 25})  # 报险 is not a word of these articles: a typo
    pair = {"question": "自己交医疗报险怎么交", "answer": "到医保经办机构办理。",
            "similar_questions": ["医保断了怎么补缴", "医保断了怎么补交"]}
    rows = pair_rows("faq-x", pair, read=lexicon.correct)
    questions = [(rec["chunk_id"], rec["matched"], rec.get("reading"), emb, bm) for rec, emb, bm in rows
                 if rec["kind"] == "faq_q"]
    # The reading has its own vector and BM25 row; the record still names the question as written. A
    # reading equal to a way the pair is already asked adds nothing (补交 reads as 补缴, already there).
    assert questions == [
        ("faq-x#q0", "自己交医疗报险怎么交", None, "自己交医疗报险怎么交", "自己交医疗报险怎么交"),
        ("faq-x#q0r", "自己交医疗报险怎么交", "自己交医疗保险怎么交", "自己交医疗保险怎么交", "自己交医疗保险怎么交"),
        ("faq-x#q1", "医保断了怎么补缴", None, "医保断了怎么补缴", "医保断了怎么补缴"),
        ("faq-x#q2", "医保断了怎么补交", None, "医保断了怎么补交", "医保断了怎么补交")]
    assert pair_rows("faq-x", pair) == [r for r in rows if "reading" not in r[0]]
    # In an index of pairs only, the vocabulary is the pairs as written, on the QA side as at indexing.
    records = [rec for rec, _, _ in rows]
    weights, lex = TermWeights(records), lexicon_of(records)
    assert weights.df == lex.chunk_counts and weights.n_counted == lex.n_chunks == 4
