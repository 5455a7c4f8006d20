"""Import a hotline's 常见问题 (FAQ) list: questions, their approved answers and other ways people ask them.

``read_faq(filename, data, limits=FAQLimits()) -> FAQImport`` reads one uploaded list. The extension
chooses the format:

- ``.csv`` / ``.tsv``: the first non-empty line is the header (normally line 1). Columns ``question`` and
  ``answer`` are required; ``similar_questions``, ``region``, ``insurance_type`` and ``source`` are
  optional, in any order. Chinese headers work too: 问题, 答案, 相似问法, 地区, 险种, 来源 (a few more
  aliases are listed in ``COLUMN_ALIASES``). Encodings as Excel and WPS export them: UTF-8, UTF-8 with
  BOM ("CSV UTF-8"), GB18030/GBK (plain "CSV" on Chinese Windows), UTF-16 with BOM ("Unicode text").
  Quoted cells (with commas, tabs, quotes or line breaks inside) follow the ``csv`` module's Excel rules.
  A ``.csv`` whose header line has tabs or semicolons and no comma is read with that delimiter.
- ``.xlsx``: the first worksheet, read with openpyxl in read-only mode (cached formula values); the first
  non-empty row is the header. Cells may be text, numbers (400 → "400"), dates or empty.
- ``.jsonl``: one JSON object per line with the same keys (aliases accepted); blank lines are skipped.
  ``similar_questions`` is a list of strings or one ``|``-separated string.

``similar_questions`` cells are split at ``|``, full-width ``｜`` and line breaks. Line numbers in
messages are the file's own: CSV/TSV physical lines (header = line 1; a quoted cell that spans lines is
reported at its first line), XLSX sheet rows, JSONL lines counted from 1.

Text is cleaned, not rewritten: control and zero-width characters go, runs of whitespace in questions
become one space, answers keep their line breaks. Two questions are *the same* when their
``question_key`` is equal: NFKC (full-width → half-width), without whitespace, control or format
characters, case-folded. ``pair_id`` is ``"faq-"`` + the first 12 hex digits of the SHA-256 of the main
question's key, so re-importing a list (or a re-saved copy with other spacing or full-width
punctuation) gives the same ids; editing the main question's words gives a new id.

What happens to rows (``FAQImport.errors`` / ``.warnings``, each a ``RowError`` with line, field,
``message_zh``, ``message_en`` and a stable ``code``):

- Errors (the row is left out of ``pairs``): empty question (``empty_question``); answer cell, key or
  column value missing or empty (``empty_answer``); a question, similar question, answer, metadata value
  or similar-question count over its limit (``question_too_long``, ``similar_too_long``,
  ``answer_too_long``, ``too_many_similar``, ``value_too_long``); a JSON line that is not an object or a
  value of the wrong type (``bad_json``, ``bad_type``); and a question — main or similar, compared by key —
  that occurs in several rows with *different* answers (answers compared the same way), code
  ``conflicting_answer``: every row involved is reported (once, naming one other line) and left out,
  since nobody can tell which answer is the approved one. Lengths are counted in characters after
  cleaning. A row can have several errors.
- Warnings (nothing is lost): unknown columns or JSON keys (``unknown_column``, ignored; the first 20
  by name, the rest in one warning), cells beyond the header (``extra_cells``, ignored; once per file),
  and a row that repeats a question of an earlier row with the *same* answer (``duplicate_merged``).
  Such rows are merged into the earliest one: its main question and id stay, the later rows' new
  questions become extra similar questions, and its region / insurance type / source are kept (an empty
  one is filled from the later row; the warning says when they differed). Repeats inside one row (a
  similar question equal to the main question or to another similar question, empty pieces of
  "a||b") are dropped without a message. Blank rows are skipped without a message.

``FAQImport.ok`` is true when there are no errors. Callers apply a list with errors only if the user
passed ``--skip-bad``, and then only its good rows (``FAQImport.pairs`` never contains a bad row);
``FAQImport.usable_pairs(skip_bad=...)`` applies that rule. Warnings never block an import.

Problems with the file as a whole raise ``FAQFileError(message_zh, message_en)`` with a ``code``:
unsupported extension, empty file, file over ``max_bytes``, undecodable bytes or binary content (with the
line of the first bad byte), content of another type (an Excel file named ``.csv`` …), a missing or wrong
header (no question/answer column, a column given twice), a header without rows, more than ``max_rows``
data rows (the file is refused rather than cut, so ``--skip-bad`` never drops its end), a broken or
encrypted workbook, a zip that is not a workbook, and a workbook whose zip directory declares too much
data (a zip bomb: checked before openpyxl opens anything).

Limits (``FAQLimits``) were set against the public insurance_faq corpus (eval/data, 3,769 pairs), which
must import without error: its longest question has 49 characters and its longest answer 7,965 (it
imports as 3,768 pairs and one ``duplicate_merged`` warning: lines 1844 and 1845 differ only by a
full-width comma and share their answer).
Defaults: question (and each similar question) ≤ 500 characters, the API's own question limit; answer ≤
20,000 (2.5× the longest public answer); ≤ 50 similar questions per pair; region / insurance type /
source ≤ 200; ≤ 20,000 data rows (5× the public set); ≤ 32 MB per file (the public set as TSV is 3.7 MB);
≤ 128 MB declared uncompressed size for a workbook. Python's ``csv`` module refuses a single field over
131,072 characters whatever the limits say; such a file is refused as a whole with the line.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import math
import re
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FORMATS = {".csv": "csv", ".tsv": "tsv", ".xlsx": "xlsx", ".jsonl": "jsonl"}
SUPPORTED = ", ".join(FORMATS)
COLUMNS = ("question", "answer", "similar_questions", "region", "insurance_type", "source")
REQUIRED = ("question", "answer")

# Header spellings → column. Headers are compared after NFKC, case folding and removing spaces,
# underscores and hyphens, so "Similar Questions", "similar-questions" and "ＱＵＥＳＴＩＯＮ" all match.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("question", "问题", "标准问题", "标准问", "主问题", "问句"),
    "answer": ("answer", "答案", "回答", "标准答案", "答复"),
    "similar_questions": ("similar_questions", "similar", "similar_question", "相似问法", "相似问题", "相似问",
                          "扩展问法", "其他问法"),
    "region": ("region", "地区", "地域", "区域", "适用地区"),
    "insurance_type": ("insurance_type", "险种", "保险类型", "参保类型"),
    "source": ("source", "来源", "出处", "依据"),
}
_FIELD_ZH = {"question": "问题", "answer": "答案", "similar_questions": "相似问法", "region": "地区",
             "insurance_type": "险种", "source": "来源"}
_FIELD_EN = {"question": "question", "answer": "answer", "similar_questions": "similar questions",
             "region": "region", "insurance_type": "insurance type", "source": "source"}

# Workbooks are zips: their directory is checked before openpyxl decompresses anything. zipfile never
# returns more than an entry's declared size, so the declared sizes bound what openpyxl can read.
XLSX_MAX_ENTRIES = 1000
XLSX_MAX_RATIO = 200  # declared/compressed size of one entry, checked for entries above 1 MB
_RATIO_FROM_BYTES = 1024 * 1024
MAX_COLUMN_WARNINGS = 20  # unknown columns/keys named one by one; any beyond share one last warning

_SIMILAR_SPLIT = re.compile(r"[|｜\r\n\u2028\u2029]+")
_WHITESPACE = re.compile(r"\s+")
# Controls other than tab and newline (Cc is U+0000–001F and U+007F–009F), lone surrogates, bidi overrides.
_ANSWER_DROP = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\u202a-\u202e\u2066-\u2069]")
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


# --- public types ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FAQLimits:
    """What one imported list may hold; the defaults admit every pair of the public insurance_faq set."""

    max_bytes: int = 32 * 1024 * 1024
    max_rows: int = 20_000
    max_question_chars: int = 500  # main question and each similar question
    max_answer_chars: int = 20_000
    max_similar: int = 50
    max_meta_chars: int = 200  # region, insurance_type, source
    max_xlsx_uncompressed_bytes: int = 128 * 1024 * 1024

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"FAQLimits.{name} must be a positive integer")


@dataclass(frozen=True)
class FAQPair:
    """One FAQ entry: the main question, its approved answer and other wordings of the question."""

    pair_id: str
    question: str
    answer: str
    similar_questions: tuple[str, ...] = ()
    region: str | None = None
    insurance_type: str | None = None
    source: str | None = None

    @property
    def all_questions(self) -> tuple[str, ...]:
        return (self.question, *self.similar_questions)


@dataclass(frozen=True)
class RowError:
    """A problem with one row (or, for ``unknown_column``, the header), by the file's own line number."""

    line: int
    field: str  # a column name from COLUMNS, "row" for the row as a whole, or the unknown column's header
    message_zh: str
    message_en: str
    code: str = ""


class FAQFileError(ValueError):
    """The file as a whole cannot be imported."""

    def __init__(self, message_zh: str, message_en: str, *, code: str = "bad_file", line: int | None = None):
        super().__init__(f"{message_zh} / {message_en}")
        self.message_zh = message_zh
        self.message_en = message_en
        self.code = code
        self.line = line


@dataclass(frozen=True)
class FAQImport:
    """What ``read_faq`` found: the good pairs, the bad rows and the warnings."""

    format: str  # "csv", "tsv", "xlsx" or "jsonl"
    pairs: list[FAQPair] = field(default_factory=list)  # good rows only, merged duplicates once, file order
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    rows: int = 0  # non-empty data rows read (header and blank lines not counted)

    @property
    def ok(self) -> bool:
        return not self.errors

    def usable_pairs(self, *, skip_bad: bool = False) -> list[FAQPair]:
        """The pairs to apply: all of them when ``ok``; with errors only the good ones, and only if
        ``skip_bad`` (the user's ``--skip-bad``); otherwise raises FAQFileError."""
        if self.ok or skip_bad:
            return list(self.pairs)
        lines = sorted({e.line for e in self.errors})
        shown = "、".join(map(str, lines[:10])) + ("…" if len(lines) > 10 else "")
        raise FAQFileError(f"有{len(lines)}行有错误(第{shown}行);请改正,或用 --skip-bad 只导入正确的行",
                           f"{len(lines)} row(s) have errors (line {shown.replace('、', ', ')}); fix them, or pass "
                           "--skip-bad to import only the good rows", code="rows_have_errors")


# --- normalisation -----------------------------------------------------------------------------------

def question_key(text: str) -> str:
    """What two questions must share to count as the same: NFKC, no whitespace/control/format
    characters, case-folded."""
    text = _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))
    if not text.isprintable():  # rare: the per-character pass only when something may need removing
        text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Cc", "Cf", "Cs"))
    return text.casefold()


def pair_id_for(question: str) -> str:
    """The stable id of the pair whose main question is ``question``."""
    return "faq-" + hashlib.sha256(question_key(question).encode("utf-8")).hexdigest()[:12]


def _clean_line(text: str) -> str:
    """A question or metadata value: control characters → spaces, format characters gone, one space."""
    if text.isprintable():
        return " ".join(text.split())
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cc":
            out.append(" ")
        elif cat not in ("Cf", "Cs"):
            out.append(ch)
    return " ".join("".join(out).split())


def _clean_answer(text: str) -> str:
    """An answer keeps its words, line breaks and tabs; other controls, bidi overrides and trailing
    blanks go."""
    text = _ANSWER_DROP.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip()


def _header_key(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "_-" and unicodedata.category(ch) != "Cf")


_HEADER_TO_COLUMN = {_header_key(alias): column for column, aliases in COLUMN_ALIASES.items() for alias in aliases}


# --- reading rows ------------------------------------------------------------------------------------

@dataclass
class _Row:
    line: int
    values: dict[str, Any] | None  # column → raw value (absent: not given at all); None: already reported


@dataclass
class _Record:
    line: int
    question: str
    answer: str
    similar: list[str]
    region: str | None
    insurance_type: str | None
    source: str | None
    keys: list[str]  # question_key of the main question, then of each similar question
    answer_key: str


def _err(line: int, column: str, code: str, zh: str, en: str) -> RowError:
    return RowError(line=line, field=column, message_zh=zh, message_en=en, code=code)


def _file_error(code: str, zh: str, en: str, line: int | None = None) -> FAQFileError:
    return FAQFileError(zh, en, code=code, line=line)


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else GB18030 when the result looks like Chinese."""
    if data.startswith(b"\xef\xbb\xbf"):
        encodings = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        encodings = ["utf-16"]
    else:
        if b"\x00" in data:
            line = data[: data.index(b"\x00")].count(b"\n") + 1
            raise _file_error("binary", f"文件不是文本(第{line}行含有二进制内容)",
                              f"the file is not text (line {line} contains binary data)", line)
        encodings = ["utf-8", "gb18030"]
    first_bad: int | None = None
    for encoding in encodings:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            if first_bad is None:
                first_bad = exc.start
            continue
        if encoding == "gb18030" and not _plausible_chinese(text):
            continue
        return text
    line = data[: first_bad or 0].count(b"\n") + 1
    raise _file_error("undecodable", f"无法识别文件的文字编码(第{line}行有无效字节);请另存为 UTF-8",
                      f"the file's text encoding is not UTF-8 or GB18030/GBK (invalid bytes on line {line}); "
                      "save it as UTF-8", line)


def _plausible_chinese(text: str) -> bool:
    """Bytes that decode as GB18030 by accident give rare characters; real text is mostly common CJK."""
    other = [ch for ch in text if ord(ch) > 0x7F]
    if not other:
        return True
    common = sum(1 for ch in other if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                 or "\uff00" <= ch <= "\uffef" or ch in "\u00b7\u00d7\u2014\u2018\u2019\u201c\u201d\u2026\u2022")
    return common / len(other) >= 0.9


def _delimited_rows(text: str, fmt: str) -> Iterator[tuple[int, list[Any]]]:
    """(first line of the record, cells) for every record of a CSV/TSV text."""
    delimiter = "\t" if fmt == "tsv" else ","
    if fmt == "csv":
        first = next((ln for ln in io.StringIO(text, newline="") if ln.strip()), "")
        if "," not in first and "\t" in first:
            delimiter = "\t"
        elif "," not in first and ";" in first:
            delimiter = ";"
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    previous = 0
    try:
        for cells in reader:
            yield previous + 1, cells
            previous = reader.line_num
    except csv.Error as exc:
        line = previous + 1
        raise _file_error("bad_csv", f"第{line}行起无法按 {fmt.upper()} 读取(字段过长或引号未闭合)",
                          f"line {line} onwards cannot be read as {fmt.upper()} (a field is too long or a quote "
                          f"is not closed): {exc}", line) from exc


def _check_xlsx_zip(data: bytes, limits: FAQLimits) -> None:
    if data.startswith(_OLE_MAGIC):
        raise _file_error("encrypted_or_xls", "文件是加密的 Excel 文件或旧版 .xls 文件;请解除密码并另存为 .xlsx",
                          "the file is an encrypted Excel file or an old .xls file; remove the password and save "
                          "it as .xlsx")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError, OSError, ...
        raise _file_error("malformed_xlsx", "文件不是有效的 Excel 工作簿(.xlsx),已损坏或格式不正确",
                          "the file is not a valid Excel workbook (.xlsx): it is damaged or malformed") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > XLSX_MAX_ENTRIES:
            raise _file_error("zip_bomb", f"工作簿内部条目过多(最多{XLSX_MAX_ENTRIES}个)",
                              f"the workbook holds too many parts (at most {XLSX_MAX_ENTRIES})")
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(1, info.compress_size)
            if (total > limits.max_xlsx_uncompressed_bytes
                    or (info.file_size > _RATIO_FROM_BYTES and ratio > XLSX_MAX_RATIO)):
                raise _file_error("zip_bomb", "工作簿解压后过大(疑似压缩炸弹),已拒绝",
                                  "the workbook would expand to too much data (a zip bomb?); refused")
            if info.flag_bits & 0x1:
                raise _file_error("encrypted_or_xls", "工作簿已加密,请先解除密码保护",
                                  "the workbook is encrypted; remove its password first")
        if "xl/workbook.xml" not in {info.filename for info in infos}:
            raise _file_error("malformed_xlsx", "文件是 ZIP 压缩包,但不是 Excel 工作簿(.xlsx)",
                              "the file is a ZIP archive but not an Excel workbook (.xlsx)")
        for info in infos:  # no part of a workbook needs a DTD; entity tricks start with one
            if info.filename.endswith((".xml", ".rels", ".vml")) and info.file_size:
                try:
                    with zf.open(info) as part:
                        head = part.read(4096)
                except Exception as exc:
                    raise _file_error("malformed_xlsx", "Excel 工作簿已损坏,无法读取",
                                      "the Excel workbook is damaged and cannot be read") from exc
                if b"<!doctype" in head.lower() or b"<\x00!\x00d\x00o\x00c\x00t\x00y\x00p\x00e" in head.lower():
                    raise _file_error("malformed_xlsx", "Excel 工作簿含有不允许的 DTD 声明",
                                      "the Excel workbook contains a DTD declaration, which is not allowed")


def _xlsx_rows(data: bytes, limits: FAQLimits) -> Iterator[tuple[int, list[Any]]]:
    """(sheet row, cell values) for every row of the first worksheet."""
    _check_xlsx_zip(data, limits)
    import openpyxl

    def broken(exc: Exception) -> FAQFileError:
        error = _file_error("malformed_xlsx", "Excel 工作簿已损坏或格式不正确,无法读取",
                            "the Excel workbook is damaged or malformed and cannot be read")
        error.__cause__ = exc
        return error

    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
    except Exception as exc:  # KeyError, BadZipFile, XML ParseError, InvalidFileException, ...
        raise broken(exc) from exc
    try:
        if not workbook.worksheets:
            raise _file_error("empty_file", "工作簿中没有工作表", "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        # Some writers store a wrong <dimension> (often just "A1"); read every row the sheet has.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, values_only=True)
        line = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                break
            except Exception as exc:  # a broken sheet part, shared string index, zip CRC, ...
                raise broken(exc) from exc
            line += 1
            yield line, list(values)
    finally:
        workbook.close()


def _jsonl_rows(text: str) -> Iterator[tuple[int, Any]]:
    """(line, parsed object or the JSON error) for every non-blank line; JSON strings cannot hold a raw
    newline, so lines are split at \\n only (not at U+2028 and friends)."""
    for number, raw in enumerate(text.split("\n"), 1):
        raw = raw.strip().lstrip("\ufeff")
        if not raw:
            continue
        try:
            yield number, json.loads(raw, parse_constant=_reject_constant)
        except (ValueError, RecursionError) as exc:
            yield number, exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _header_columns(cells: list[Any], line: int, warnings: list[RowError]) -> dict[int, str]:
    """Cell index → column for a header row; raises FAQFileError when question or answer is missing."""
    columns: dict[int, str] = {}
    found: list[str] = []
    for index, cell in enumerate(cells):
        name = _clean_line(_plain(cell))
        if not name:
            continue
        found.append(name[:30])
        column = _HEADER_TO_COLUMN.get(_header_key(name))
        if column is None:
            _warn_unknown(warnings, line, name, "列", "column")
            continue
        if column in columns.values():
            raise _file_error("bad_header", f"表头(第{line}行)中“{_FIELD_ZH[column]}”列出现了两次",
                              f"the header (line {line}) has the {column} column twice", line)
        columns[index] = column
    missing = [c for c in REQUIRED if c not in columns.values()]
    if missing:
        shown = ", ".join(found[:8]) or "-"
        raise _file_error(
            "bad_header",
            f"第{line}行应为表头,须含 question(问题)和 answer(答案)两列;缺少 {', '.join(missing)};"
            f"找到的是:{shown}",
            f"line {line} must be the header, with a question and an answer column; missing "
            f"{', '.join(missing)}; found: {shown}", line)
    return columns


def _warn_unknown(warnings: list[RowError], line: int, name: str, kind_zh: str, kind_en: str) -> None:
    named = sum(1 for w in warnings if w.code == "unknown_column")
    if named < MAX_COLUMN_WARNINGS:
        name = name[:50]
        warnings.append(_err(line, name, "unknown_column", f"第{line}行:未知的{kind_zh}“{name}”,已忽略",
                             f"line {line}: unknown {kind_en} “{name}”; ignored"))
    elif named == MAX_COLUMN_WARNINGS:
        warnings.append(_err(line, "row", "unknown_column", f"第{line}行起还有更多未知的{kind_zh},均已忽略",
                             f"more unknown {kind_en}s from line {line} on; all ignored"))


def _plain(value: Any) -> str:
    """A header cell as text (headers are never rejected for their type)."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_rows(raw_rows: Iterator[tuple[int, list[Any]]], limits: FAQLimits,
                warnings: list[RowError]) -> Iterator[_Row]:
    """Rows of a CSV/TSV/XLSX table keyed by column, after its header."""
    columns: dict[int, str] | None = None
    known: set[int] = set()
    warned_extra = False
    count = 0
    for line, cells in raw_rows:
        if all(_is_blank(cell) for cell in cells):
            continue
        if columns is None:
            columns = _header_columns(cells, line, warnings)
            known = set(range(len(cells)))
            continue
        count += 1
        if count > limits.max_rows:
            raise _too_many_rows(limits, line)
        values = {column: cells[index] if index < len(cells) else None for index, column in columns.items()}
        if not warned_extra and any(not _is_blank(cell) for i, cell in enumerate(cells) if i not in known):
            warned_extra = True
            warnings.append(_err(line, "row", "extra_cells", f"第{line}行有表头以外的单元格内容,已忽略"
                                 "(之后的行同样处理,不再提示)",
                                 f"line {line} has cells beyond the header; they are ignored (also on later "
                                 "lines, without another message)"))
        yield _Row(line, values)
    if columns is None:
        raise _file_error("empty_file", "文件为空(没有表头和数据)", "the file is empty (no header and no rows)")
    if count == 0:
        raise _file_error("no_rows", "文件只有表头,没有问答", "the file has a header but no pairs")


def _too_many_rows(limits: FAQLimits, line: int) -> FAQFileError:
    return _file_error("too_many_rows", f"行数过多(最多{limits.max_rows}行问答,第{line}行超出);请拆分文件",
                       f"too many rows (at most {limits.max_rows} pairs; line {line} is over); split the file",
                       line)


def _json_rows(text: str, limits: FAQLimits, errors: list[RowError], warnings: list[RowError]) -> Iterator[_Row]:
    count = 0
    warned: set[str] = set()
    for line, obj in _jsonl_rows(text):
        count += 1
        if count > limits.max_rows:
            raise _too_many_rows(limits, line)
        if isinstance(obj, Exception):
            errors.append(_err(line, "row", "bad_json", f"第{line}行不是有效的 JSON",
                               f"line {line} is not valid JSON"))
            yield _Row(line, None)
            continue
        if not isinstance(obj, dict):
            errors.append(_err(line, "row", "bad_json", f"第{line}行应为一个 JSON 对象({{...}})",
                               f"line {line} must be one JSON object ({{...}})"))
            yield _Row(line, None)
            continue
        values: dict[str, Any] = {}
        twice = False
        for key, value in obj.items():
            column = _HEADER_TO_COLUMN.get(_header_key(key))
            if column is None:
                name = _clean_line(key)[:50]
                if name not in warned:
                    warned.add(name)
                    _warn_unknown(warnings, line, name, "键", "key")
            elif column in values:
                twice = True
                errors.append(_err(line, column, "bad_json", f"第{line}行的“{_FIELD_ZH[column]}”给了两次",
                                   f"line {line} gives the {_FIELD_EN[column]} twice"))
            else:
                values[column] = value
        yield _Row(line, None if twice else values)
    if count == 0:
        raise _file_error("empty_file", "文件为空(没有任何问答)", "the file is empty (no pairs)")


# --- checking rows -----------------------------------------------------------------------------------

def _text(value: Any, line: int, column: str, errors: list[RowError]) -> str | None:
    """A cell or JSON value as text; None when empty; records bad_type and returns None for the rest."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return str(value)
    elif isinstance(value, float) and math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    elif isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    elif isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    errors.append(_err(line, column, "bad_type", f"第{line}行的“{_FIELD_ZH[column]}”应为文字",
                       f"line {line}: the {_FIELD_EN[column]} must be text"))
    return None


def _similar_list(value: Any, line: int, errors: list[RowError]) -> list[str]:
    if isinstance(value, list):
        items: list[str] = []
        for item in value:
            if isinstance(item, list | dict):
                errors.append(_err(line, "similar_questions", "bad_type", f"第{line}行的相似问法列表中应只有文字",
                                   f"line {line}: the similar questions must be text"))
                continue
            text = _text(item, line, "similar_questions", errors)
            if text is not None:
                items.append(text)
        return items
    if isinstance(value, dict):
        errors.append(_err(line, "similar_questions", "bad_type",
                           f"第{line}行的相似问法应为文字或文字列表",
                           f"line {line}: similar questions must be text or a list of text"))
        return []
    text = _text(value, line, "similar_questions", errors)
    return _SIMILAR_SPLIT.split(text) if text else []


def _check_row(row: _Row, limits: FAQLimits, errors: list[RowError]) -> _Record | None:
    """The row as a record, or None after adding its errors to ``errors``."""
    line, values = row.line, row.values or {}
    before = len(errors)
    raw_question = _text(values.get("question"), line, "question", errors)
    raw_answer = _text(values.get("answer"), line, "answer", errors)
    question = _clean_line(raw_question or "")
    answer = _clean_answer(raw_answer or "")
    if not question and len(errors) == before:
        errors.append(_err(line, "question", "empty_question", f"第{line}行的问题为空",
                           f"line {line}: the question is empty"))
    elif len(question) > limits.max_question_chars:
        errors.append(_err(line, "question", "question_too_long",
                           f"第{line}行的问题过长({len(question)}字,最多{limits.max_question_chars}字)",
                           f"line {line}: the question is too long ({len(question)} characters, at most "
                           f"{limits.max_question_chars})"))
    if not answer and not any(e.field == "answer" for e in errors[before:]):
        errors.append(_err(line, "answer", "empty_answer", f"第{line}行缺少答案或答案为空",
                           f"line {line}: the answer is missing or empty"))
    elif len(answer) > limits.max_answer_chars:
        errors.append(_err(line, "answer", "answer_too_long",
                           f"第{line}行的答案过长({len(answer)}字,最多{limits.max_answer_chars}字)",
                           f"line {line}: the answer is too long ({len(answer)} characters, at most "
                           f"{limits.max_answer_chars})"))

    main_key = question_key(question)
    keys = [main_key]
    similar: list[str] = []
    for raw in _similar_list(values.get("similar_questions"), line, errors):
        text = _clean_line(raw)
        key = question_key(text)
        if not key or key in keys:
            continue  # empty pieces ("a||b", a trailing "|") and repeats inside the row
        if len(text) > limits.max_question_chars:
            errors.append(_err(line, "similar_questions", "similar_too_long",
                               f"第{line}行的第{len(similar) + 1}个相似问法过长({len(text)}字,"
                               f"最多{limits.max_question_chars}字)",
                               f"line {line}: similar question {len(similar) + 1} is too long ({len(text)} "
                               f"characters, at most {limits.max_question_chars})"))
        keys.append(key)
        similar.append(text)
    if len(similar) > limits.max_similar:
        errors.append(_err(line, "similar_questions", "too_many_similar",
                           f"第{line}行的相似问法过多({len(similar)}个,最多{limits.max_similar}个)",
                           f"line {line}: too many similar questions ({len(similar)}, at most "
                           f"{limits.max_similar})"))

    meta: dict[str, str | None] = {}
    for column in ("region", "insurance_type", "source"):
        text = _text(values.get(column), line, column, errors)
        value = _clean_line(text) if text is not None else ""
        if len(value) > limits.max_meta_chars:
            errors.append(_err(line, column, "value_too_long",
                               f"第{line}行的“{_FIELD_ZH[column]}”过长({len(value)}字,最多{limits.max_meta_chars}字)",
                               f"line {line}: the {_FIELD_EN[column]} is too long ({len(value)} characters, at most "
                               f"{limits.max_meta_chars})"))
        meta[column] = value or None
    if len(errors) > before:
        return None
    return _Record(line=line, question=question, answer=answer, similar=similar, region=meta["region"],
                   insurance_type=meta["insurance_type"], source=meta["source"], keys=keys,
                   answer_key=question_key(answer))


def _combine(records: list[_Record], limits: FAQLimits, errors: list[RowError],
             warnings: list[RowError]) -> list[FAQPair]:
    """Report questions shared by rows with different answers; merge rows that share a question and an
    answer into the earliest; return the pairs in file order."""
    holders: dict[str, list[int]] = {}  # question key → indices of the records that hold it
    for index, record in enumerate(records):
        for key in record.keys:
            holders.setdefault(key, []).append(index)

    # A key held with several answers: for each answer, how many rows give it; and the first line of the
    # first answer plus the first line of any other answer, enough to name a line with a different answer
    # for every row without comparing every pair of rows.
    conflicts: dict[str, tuple[dict[str, int], tuple[int, str], int | None]] = {}
    for key, indices in holders.items():
        counts: dict[str, int] = {}
        for i in indices:
            counts[records[i].answer_key] = counts.get(records[i].answer_key, 0) + 1
        if len(counts) < 2:
            continue
        first = records[indices[0]]
        second = next(records[i].line for i in indices if records[i].answer_key != first.answer_key)
        conflicts[key] = (counts, (first.line, first.answer_key), second)

    conflicted: set[int] = set()
    for index, record in enumerate(records):
        key = next((k for k in record.keys if k in conflicts), None)
        if key is None:
            continue
        conflicted.add(index)
        counts, (first_line, first_answer), second = conflicts[key]
        other = first_line if record.answer_key != first_answer else second
        more = len(holders[key]) - counts[record.answer_key] - 1
        column = "question" if key == record.keys[0] else "similar_questions"
        kind_zh, kind_en = ("问题", "question") if column == "question" else ("相似问法", "similar question")
        errors.append(_err(
            record.line, column, "conflicting_answer",
            f"第{record.line}行的{kind_zh}也出现在第{other}行{f'(另有{more}行)' if more else ''},但答案不同;"
            "请只保留一个答案",
            f"line {record.line}: its {kind_en} also appears on line {other}"
            f"{f' (and {more} more)' if more else ''} with a different answer; keep one answer"))

    # Union-find over the remaining records that share a question (their answers are then equal).
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for indices in holders.values():
        good = [i for i in indices if i not in conflicted]
        for i in good[1:]:
            a, b = root(good[0]), root(i)
            if a != b:
                parent[max(a, b)] = min(a, b)  # the earliest record stays the root

    # The first two good rows holding each question: a merged row's message names another row it shares
    # a question with (not necessarily an earlier one: in A(q1), B(q2), C(q1, q2) B joins A through C).
    holders_ok: dict[str, list[int]] = {}
    for key, indices in holders.items():
        holders_ok[key] = [i for i in indices if i not in conflicted][:2] if conflicted else indices[:2]

    components: dict[int, list[int]] = {}  # root (the earliest row) → rows; roots come in file order
    for index in range(len(records)):
        if index not in conflicted:
            components.setdefault(root(index), []).append(index)

    pairs: list[FAQPair] = []
    for members in components.values():
        base = records[members[0]]
        keys = dict.fromkeys(base.keys)
        similar = list(base.similar)
        meta = {name: getattr(base, name) for name in ("region", "insurance_type", "source")}
        later = members[1:]
        for index in later:
            record = records[index]
            for key, text in zip(record.keys, [record.question, *record.similar]):
                if key not in keys:
                    keys[key] = None
                    similar.append(text)
        total = len(similar)
        overflow = total > limits.max_similar  # then the later rows are errors and the first row stays alone
        if overflow:
            similar = list(base.similar)
        for index in later:
            record = records[index]
            partner, shared = min((next(i for i in holders_ok[k] if i != index), k) for k in record.keys
                                  if len(holders_ok[k]) > 1)
            column = "question" if shared == record.keys[0] else "similar_questions"
            if overflow:
                errors.append(_err(
                    record.line, column, "too_many_similar",
                    f"第{record.line}行与第{records[partner].line}行问题相同、答案相同,应合并到第{base.line}行,"
                    f"但合并后相似问法有{total}个,超过{limits.max_similar}个",
                    f"line {record.line} shares a question and the answer with line {records[partner].line} and "
                    f"belongs to the pair on line {base.line}, but merged that pair would have {total} "
                    f"similar questions, over {limits.max_similar}"))
                continue
            kept = [name for name in meta if getattr(record, name) and meta[name]
                    and getattr(record, name) != meta[name]]
            for name in meta:
                meta[name] = meta[name] or getattr(record, name)
            note_zh = f";{'、'.join(_FIELD_ZH[n] for n in kept)}以第{base.line}行为准" if kept else ""
            note_en = f"; the {', '.join(_FIELD_EN[n] for n in kept)} of line {base.line} kept" if kept else ""
            warnings.append(_err(
                record.line, column, "duplicate_merged",
                f"第{record.line}行与第{records[partner].line}行有相同的问题且答案相同,已合并到第{base.line}行{note_zh}",
                f"line {record.line} shares a question and the answer with line {records[partner].line}; merged "
                f"into line {base.line}{note_en}"))
        pairs.append(FAQPair(pair_id=pair_id_for(base.question), question=base.question, answer=base.answer,
                             similar_questions=tuple(similar), region=meta["region"],
                             insurance_type=meta["insurance_type"], source=meta["source"]))
    return pairs


# --- entry point -------------------------------------------------------------------------------------

def faq_format(filename: str) -> str:
    """"csv", "tsv", "xlsx" or "jsonl" from a file name; raises FAQFileError for anything else."""
    if not isinstance(filename, str):
        raise _file_error("unsupported_type", "文件名无效", "the file name is not valid")
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    suffix = "." + name.rsplit(".", 1)[-1].lower() if "." in name.strip(".") else ""
    if suffix not in FORMATS:
        hint_zh, hint_en = "", ""
        if suffix == ".xls":
            hint_zh, hint_en = ";旧版 .xls 请另存为 .xlsx", "; save old .xls files as .xlsx"
        elif suffix == ".json":
            hint_zh, hint_en = ";JSON 请每行一个对象并存为 .jsonl", "; write one JSON object per line as .jsonl"
        raise _file_error("unsupported_type", f"不支持的文件类型,可导入 {SUPPORTED}{hint_zh}",
                          f"unsupported file type; import one of {SUPPORTED}{hint_en}")
    return FORMATS[suffix]


def read_faq(filename: str, data: bytes, *, limits: FAQLimits = FAQLimits()) -> FAQImport:  # noqa: B008
    """Read one FAQ list (see the module docstring). Row problems are reported in the result; problems
    with the file as a whole raise FAQFileError."""
    fmt = faq_format(filename)
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("data must be bytes")
    data = bytes(data)
    if not data.strip():
        raise _file_error("empty_file", "文件为空", "the file is empty")
    if len(data) > limits.max_bytes:
        raise _file_error("too_large", f"文件过大(最多{_human(limits.max_bytes)})",
                          f"the file is too large (at most {_human(limits.max_bytes)})")
    errors: list[RowError] = []
    warnings: list[RowError] = []
    if fmt == "xlsx":
        rows: Iterator[_Row] = _table_rows(_xlsx_rows(data, limits), limits, warnings)
    else:
        if data.startswith((b"PK\x03\x04", b"PK\x05\x06", _OLE_MAGIC)):
            raise _file_error("type_mismatch", f"文件内容是 Excel 工作簿或压缩包,不是 .{fmt} 文本;"
                              "Excel 文件请以 .xlsx 扩展名导入",
                              f"the file's content is an Excel workbook or an archive, not .{fmt} text; import "
                              "Excel files with the .xlsx extension")
        text = _decode(data)
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise _file_error("binary", f"文件不是文本(第{line}行含有二进制内容)",
                              f"the file is not text (line {line} contains binary data)", line)
        if fmt == "jsonl":
            rows = _json_rows(text, limits, errors, warnings)
        else:
            rows = _table_rows(_delimited_rows(text, fmt), limits, warnings)
    records: list[_Record] = []
    count = 0
    for row in rows:
        count += 1
        if row.values is None:
            continue
        record = _check_row(row, limits, errors)
        if record is not None:
            records.append(record)
    pairs = _combine(records, limits, errors, warnings)
    errors.sort(key=lambda e: e.line)
    warnings.sort(key=lambda e: e.line)
    return FAQImport(format=fmt, pairs=pairs, errors=errors, warnings=warnings, rows=count)


def _human(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} B"
