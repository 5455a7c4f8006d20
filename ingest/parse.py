"""Turn an uploaded file into article text: .txt/.md, .html/.htm, .pdf and .docx.

``parse_upload(filename, data, max_bytes=...)`` checks the upload before reading it (name, size, the
type its first bytes show against its extension, a Word file's zip directory), extracts the text,
applies the boilerplate rules of :func:`ingest.clean.clean_page`, and returns a frozen
:class:`ParsedDocument`. Every refusal is an :class:`UploadError` with an HTTP status (413 too large,
415 unsupported or mismatched type, 422 everything else), a stable code and a message in Chinese and
English. Messages never repeat the file name or content.

Nothing here touches the network: trafilatura is given the page as a string (it fetches only when asked
to download a URL), and no parser resolves external entities.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from .clean import clean_page, normalise_whitespace
from .metadata import normalise_date, scan_page

TEXT_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx"}
SUPPORTED = ", ".join(sorted(TEXT_FORMATS))
MAX_FILENAME_CHARS = 255

# A Word file is a zip: its directory is checked before anything is decompressed. zipfile never reads
# more than an entry's declared size, so the declared sizes bound the memory python-docx can use.
DOCX_MAX_ENTRIES = 2000
DOCX_MAX_ENTRY_BYTES = 64 * 1024 * 1024
DOCX_MAX_TOTAL_BYTES = 256 * 1024 * 1024
DOCX_MAX_RATIO = 200  # declared/compressed size of one entry, checked for entries above 1 MB
# pdfminer and pdfplumber log a warning for every flaw of a damaged PDF; those are the upload's problems,
# reported to the user as one UploadError, not the service's.
for _name in ("pdfminer", "pdfplumber"):
    logging.getLogger(_name).setLevel(logging.ERROR)

# PDFs: pages and characters read, so a huge document cannot hold a worker for minutes.
PDF_MAX_PAGES = 2000
MAX_TEXT_CHARS = 5_000_000


class UploadError(ValueError):
    """An upload that cannot be used; ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{message_zh} / {message_en}")
        self.status = status
        self.code = code
        self.message_zh = message_zh
        self.message_en = message_en

    def to_dict(self) -> dict[str, Any]:
        """The project's error body shape (see api/errors.py)."""
        return {"error": self.code, "message": str(self), "message_zh": self.message_zh,
                "message_en": self.message_en, "detail": []}


@dataclass(frozen=True)
class ParsedDocument:
    """An uploaded file's article text and what its page said about it."""

    filename: str
    format: str  # "txt", "md", "html", "pdf", "docx"
    title: str
    text: str  # article body after the clean_page boilerplate rules (title line excluded)
    sha256: str  # of the uploaded bytes
    size: int  # bytes
    # Detected page metadata, only keys that were found: title, date (ISO), publisher, author,
    # source_url, description, created/modified (PDF/DOCX file dates, not publication dates).
    page: dict[str, str] = field(default_factory=dict)
    removed_lines: int = 0


# --- file names and types --------------------------------------------------------------------------

def check_filename(filename: object) -> tuple[str, str]:
    """(name, extension) of a bare file name; raises UploadError for paths and odd characters."""
    if not isinstance(filename, str) or not filename.strip():
        raise UploadError(422, "bad_filename", "文件名不能为空", "the file name is empty")
    bad = [ch for ch in filename if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp")]
    if bad:
        raise UploadError(422, "bad_filename", "文件名含有控制字符", "the file name contains control characters")
    if "/" in filename or "\\" in filename or ":" in filename or filename in (".", ".."):
        raise UploadError(422, "bad_filename", "文件名不能包含路径,只需文件本身的名字",
                          "the file name must not contain a path, only the file's own name")
    if filename != filename.strip() or filename.endswith("."):
        raise UploadError(422, "bad_filename", "文件名不能以空格或句点开头或结尾",
                          "the file name must not start or end with a space, or end with a dot")
    if len(filename) > MAX_FILENAME_CHARS or len(filename.encode("utf-8")) > 4 * MAX_FILENAME_CHARS:
        raise UploadError(422, "bad_filename", f"文件名过长(最多{MAX_FILENAME_CHARS}个字符)",
                          f"the file name is too long (at most {MAX_FILENAME_CHARS} characters)")
    suffix = PurePosixPath(filename).suffix.lower()
    if suffix not in TEXT_FORMATS or PurePosixPath(filename).stem == "":
        hint_zh, hint_en = "", ""
        if suffix == ".doc":
            hint_zh, hint_en = ";旧版 Word 文件请另存为 .docx", "; save old Word files as .docx"
        raise UploadError(415, "unsupported_type", f"不支持的文件类型,可上传 {SUPPORTED}{hint_zh}",
                          f"unsupported file type; upload one of {SUPPORTED}{hint_en}")
    return filename, suffix


_MAGIC: list[tuple[bytes, str]] = [
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG\r\n\x1a\n", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF87a", "image"),
    (b"GIF89a", "image"),
    (b"II*\x00", "image"),
    (b"MM\x00*", "image"),
    (b"\x1f\x8b", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"Rar!\x1a\x07", "archive"),
    (b"\x7fELF", "program"),
    (b"{\\rtf", "rtf"),
]

_KIND_EN = {"pdf": "a PDF", "zip": "a ZIP archive", "docx": "a Word (.docx) file", "xlsx": "an Excel workbook",
            "pptx": "a PowerPoint file", "ole": "an old Office or encrypted Office file", "image": "an image",
            "archive": "a compressed archive", "program": "a program", "rtf": "an RTF file"}
_KIND_ZH = {"pdf": "PDF", "zip": "ZIP 压缩包", "docx": "Word(.docx)文件", "xlsx": "Excel 工作簿",
            "pptx": "PowerPoint 文件", "ole": "旧版或加密的 Office 文件", "image": "图片", "archive": "压缩包",
            "program": "程序文件", "rtf": "RTF 文件"}


def sniff(data: bytes) -> str | None:
    """What the first bytes say the file is: pdf, docx, xlsx, pptx, zip, ole, image, archive, program,
    rtf, or None (no known signature: possibly text)."""
    head = data[:16]
    if head.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "image"
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            if kind == "zip":
                return _zip_kind(data)
            return kind
    if head.startswith(b"MZ") and len(data) > 0x40:
        offset = int.from_bytes(data[0x3C:0x40], "little")
        if data[offset : offset + 4] == b"PE\x00\x00":
            return "program"
    if b"%PDF-" in data[:1024]:  # PDF readers accept junk before the header
        return "pdf"
    return None


def _zip_kind(data: bytes) -> str:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except Exception:  # BadZipFile, NotImplementedError (odd zip versions), OSError, ...
        return "zip"
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "ppt/presentation.xml" in names:
        return "pptx"
    return "zip"


def _mismatch(kind: str, suffix: str) -> UploadError:
    return UploadError(415, "type_mismatch",
                       f"文件内容是{_KIND_ZH.get(kind, kind)},与扩展名 {suffix} 不符",
                       f"the file's content is {_KIND_EN.get(kind, kind)}, which does not match its {suffix} extension")


# --- text decoding -----------------------------------------------------------------------------------

_CHARSET_DECL = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_GB_NAMES = {"gb2312", "gbk", "gb18030", "gb_2312-80", "x-gbk", "cp936", "euc-cn"}


def _plausible_chinese(text: str) -> bool:
    """Text decoded as GB18030 should be mostly common CJK, CJK punctuation or full-width forms."""
    other = [ch for ch in text if ord(ch) > 0x7F]
    if not other:
        return True
    common = sum(1 for ch in other if "\u4e00" <= ch <= "\u9fff" or "\u3000" <= ch <= "\u303f"
                 or "\uff00" <= ch <= "\uffef" or ch in "\u00b7\u00d7\u2014\u2018\u2019\u201c\u201d\u2026\u2022\u00b0")
    return common / len(other) >= 0.9


def _reject_binary(text: str) -> None:
    controls = sum(1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f\v")
    private = sum(1 for ch in text if unicodedata.category(ch) in ("Co", "Cn"))
    if "\x00" in text or controls + private > max(2, len(text) // 200):
        raise UploadError(422, "not_text", "文件不是文本(含有二进制内容)",
                          "the file is not text (it contains binary data)")


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode text bytes: BOM (UTF-8/UTF-16), a declared charset, UTF-8, then GB18030 (GBK/GB2312)."""
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        if b"\x00" in data:
            raise UploadError(422, "not_text", "文件不是文本(含有二进制内容)",
                              "the file is not text (it contains binary data)")
        # Valid UTF-8 is strong evidence whatever a page declares; then the declared charset; then GB18030.
        candidates = ["utf-8", "gb18030"]
        if declared:
            name = declared.lower()
            if name in _GB_NAMES:
                name = "gb18030"
            try:
                "".encode(name)
            except LookupError:
                name = ""
            if name and name not in candidates:
                candidates.insert(1, name)
    for enc in candidates:
        try:
            text = data.decode(enc)
        except (UnicodeDecodeError, LookupError):
            continue
        if enc == "gb18030" and not (declared and declared.lower() in _GB_NAMES) and not _plausible_chinese(text):
            continue
        _reject_binary(text)
        return text
    raise UploadError(422, "undecodable", "无法识别文件的文字编码,请另存为 UTF-8 文本",
                      "the file's text encoding is not UTF-8 or GB18030 (GBK); save it as UTF-8")


# --- formats -----------------------------------------------------------------------------------------

_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*")
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def _markdown_to_text(raw: str) -> str:
    lines = []
    for line in raw.splitlines():
        line = _MD_HEADING.sub("", line)
        line = _MD_IMAGE.sub("", line)
        line = _MD_LINK.sub(r"\1", line)
        line = _MD_EMPHASIS.sub(r"\2", line)
        lines.append(line)
    return "\n".join(lines)


def _first_line(text: str) -> str:
    return next((ln.strip() for ln in text.splitlines() if ln.strip()), "")


def _parse_text(data: bytes, suffix: str, stem: str) -> tuple[str, str, dict[str, str], str]:
    """(title, raw text, page metadata, format); the title is the first line, as in ingest.corpus."""
    raw = decode_text(data)
    if suffix == ".md":
        raw = _markdown_to_text(raw)
    title = _choose_title("", _first_line(raw), stem)
    return title, raw, scan_page(raw), suffix.lstrip(".")


_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜]|\s[-–—]\s|--)\s*")


def _meta_values(tree: Any) -> dict[str, str]:
    """<meta> contents by lower-cased property/name/itemprop (the first of each)."""
    values: dict[str, str] = {}
    for el in tree.xpath("//meta[@content]"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or "").strip().lower()
        content = " ".join((el.get("content") or "").split())
        if key and content and key not in values:
            values[key] = content
    return values


def _html_title(tree: Any, meta: dict[str, str], site: str = "") -> str:
    """og:title, else the first <h1>, else the article's part of <title>.

    "文章标题_网站名", "文章标题 - 栏目 - 网站名": parts naming the site (when known) are dropped, then the
    first part is the article's.
    """
    for key in ("og:title", "twitter:title", "articletitle"):
        if meta.get(key):
            return meta[key]
    for h1 in tree.xpath("//h1"):
        text = " ".join(h1.text_content().split())
        if text:
            return text
    titles = tree.xpath("//title")
    if titles:
        text = " ".join(titles[0].text_content().split())
        parts = [p.strip() for p in _TITLE_SEPARATORS.split(text) if p.strip()]
        kept = [p for p in parts if not site or (p not in site and site not in p)]
        return (kept or parts or [text])[0]
    return ""


_META_DATE = ("article:published_time", "pubdate", "publishdate", "publish_date", "publication_date", "date",
              "dc.date", "dc.date.issued", "dcterms.created", "firstpublishedtime", "article:modified_time",
              "lastmodifiedtime", "og:updated_time")
_META_PUBLISHER = ("contentsource", "og:site_name", "sitename", "publisher", "application-name", "site_name")
_META_AUTHOR = ("author", "article:author", "dc.creator")


def _html_meta(tree: Any, values: dict[str, str]) -> dict[str, str]:
    page: dict[str, str] = {}
    for key in _META_DATE:
        date = normalise_date(values.get(key, ""))
        if date:
            page["date"] = date
            break
    for key in _META_PUBLISHER:
        if values.get(key) and len(values[key]) <= 40:
            page["publisher"] = values[key]
            break
    for key in _META_AUTHOR:
        if values.get(key) and len(values[key]) <= 40:
            page["author"] = values[key]
            break
    for key in ("description", "og:description"):
        if values.get(key):
            page["description"] = values[key][:500]
            break
    url = values.get("og:url") or next(iter(tree.xpath('//link[@rel="canonical"]/@href')), "")
    if isinstance(url, str) and re.match(r"^https?://\S+$", url):
        page["source_url"] = url
    return page


_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "header",
               "footer", "table", "ul", "ol", "dd", "dt", "blockquote", "pre", "hr", "td", "th"}


def _visible_lines(tree: Any) -> str:
    """The page's visible text, one block per line (for page hints and as a last-resort body)."""
    for bad in tree.xpath("//script|//style|//noscript|//template"):
        bad.drop_tree()
    bodies = tree.xpath("//body")
    root = bodies[0] if bodies else tree
    parts: list[str] = []
    for el in root.iter():
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag.lower() in _BLOCK_TAGS:
            parts.append("\n")
        if el.text and tag:
            parts.append(el.text)
        if tag.lower() in _BLOCK_TAGS:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)
    return re.sub(r"\n\s*\n+", "\n", "".join(parts))


def _parse_html(data: bytes, stem: str) -> tuple[str, str, dict[str, str], str]:
    import lxml.html
    import trafilatura

    m = _CHARSET_DECL.search(data[:4096])
    html = decode_text(data, declared=m.group(1).decode("ascii", "ignore") if m else None)
    if not re.search(r"<\s*[A-Za-z!]", html):
        # Plain text saved as .html: read it as text.
        return _choose_title("", _first_line(html), stem), html, scan_page(html), "html"
    try:
        tree = lxml.html.document_fromstring(html)
    except Exception as exc:  # lxml raises ParserError/ValueError for empty or odd documents
        raise UploadError(422, "malformed_html", "无法解析该网页文件", "the HTML file cannot be parsed") from exc
    meta = _meta_values(tree)
    page = _html_meta(tree, meta)
    visible = _visible_lines(tree)
    for key, value in scan_page(visible).items():
        page.setdefault(key, value)
    title = _html_title(tree, meta, page.get("publisher", ""))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(
            html, with_metadata=True, include_tables=True, include_comments=False, include_images=False,
            include_links=False, deduplicate=False,
            date_extraction_params={"extensive_search": False, "original_date": True},
        )
    body = getattr(doc, "text", None) if doc is not None else None
    if doc is not None:
        if not title and getattr(doc, "title", None):
            title = doc.title
        if "date" not in page and normalise_date(getattr(doc, "date", "") or ""):
            page["date"] = normalise_date(doc.date)
        if "publisher" not in page and getattr(doc, "sitename", None):
            page["publisher"] = doc.sitename
    if not body or not body.strip():
        body = visible
    # trafilatura writes table rows as "| a | b |"; keep them as "a | b" like Word tables.
    body = re.sub(r"^[ \t]*\|[ \t]*|[ \t]*\|[ \t]*$", "", body, flags=re.M)
    if title:
        page.setdefault("title", title)
    return title or _choose_title("", _first_line(body), stem), body, page, "html"


_JUNK_TITLE = re.compile(
    r"^(untitled|unspecified|无标题|文档\d*|document\d*|microsoft word\s*-\s*.*|.*\.(docx?|pdf|wps|txt))$", re.I
)


def _meta_title(value: Any) -> str:
    """A file's stored title, unless it is a placeholder or a file name ("Microsoft Word - 通知.docx")."""
    if not isinstance(value, str):
        return ""
    value = " ".join(value.split())
    return "" if not value or _JUNK_TITLE.match(value) or len(value) > 200 else value


def _looks_like_heading(line: str) -> bool:
    return bool(line) and len(line) <= 80 and not re.search(r"[。！？!?；;，,]$", line)


def _choose_title(stored: str, first_line: str, fallback: str) -> str:
    """The first line when it looks like a heading (short, not a sentence), else the stored title, else
    ``fallback`` (the file name without its extension): a first line that is a sentence stays body text."""
    if _looks_like_heading(first_line):
        return first_line
    return stored or fallback


def _pdf_date(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("latin-1", "ignore")
    if not isinstance(value, str):
        return None
    m = re.match(r"^D?:?(\d{4})(\d{2})(\d{2})", value.strip())
    return normalise_date(f"{m.group(1)}-{m.group(2)}-{m.group(3)}") if m else None


_PAGE_NUMBER = re.compile(r"^\s*(?:[-—–\s]*\d{1,4}[-—–\s]*|第\s*\d{1,4}\s*页(?:\s*[/,，]?\s*共\s*\d{1,4}\s*页)?|"
                          r"\d{1,4}\s*/\s*\d{1,4}|page\s*\d{1,4}(?:\s*of\s*\d{1,4})?)\s*$", re.I)
_SENTENCE_END = re.compile(r"[。！？!?：:；;”」』)）]$")


def _pdf_page_lines(page: Any) -> list[str]:
    """One page's lines, with lines wrapped at the right margin joined into their paragraph."""
    lines = [ln for ln in page.extract_text_lines(layout=False, strip=True) if ln["text"].strip()]
    if not lines:
        return []
    widths = [(ln["x1"] - ln["x0"]) / max(1, len(ln["text"])) for ln in lines]
    char_w = sorted(widths)[len(widths) // 2]
    right = max(ln["x1"] for ln in lines)
    at_margin = [ln["x1"] >= right - 1.5 * char_w for ln in lines]
    joinable = sum(at_margin) >= 2  # a text margin exists only where several lines reach it
    out: list[str] = []
    carry = ""
    for ln, full in zip(lines, at_margin):
        text = ln["text"].strip()
        latin = carry[-1:].isascii() and carry[-1:].isalnum() and text[:1].isascii()
        text = carry + (" " if latin else "") + text
        if joinable and full and not _SENTENCE_END.search(text):
            carry = text
            continue
        out.append(text)
        carry = ""
    if carry:
        out.append(carry)
    return out


def _parse_pdf(data: bytes, stem: str) -> tuple[str, str, dict[str, str], str]:
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    pages: list[list[str]] = []
    images = 0
    page_meta: dict[str, str] = {}
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            info = pdf.metadata or {}
            if len(pdf.pages) > PDF_MAX_PAGES:
                raise UploadError(422, "too_many_pages", f"PDF 页数过多(最多{PDF_MAX_PAGES}页)",
                                  f"the PDF has too many pages (at most {PDF_MAX_PAGES})")
            total = 0
            for page in pdf.pages:
                images += len(page.images)
                lines = _pdf_page_lines(page)
                pages.append(lines)
                total += sum(len(x) for x in lines)
                page.close()  # free the page's parsed objects
                if total > MAX_TEXT_CHARS:
                    break
    except UploadError:
        raise
    except Exception as exc:  # pdfminer raises many types; pdfplumber wraps them in PdfminerException
        inner = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
        if isinstance(inner, PDFPasswordIncorrect | PDFEncryptionError) or "password" in repr(inner).lower():
            raise UploadError(422, "encrypted_pdf", "PDF 已加密,请先解除密码保护",
                              "the PDF is encrypted; remove its password first") from exc
        raise UploadError(422, "malformed_pdf", "PDF 文件已损坏或格式不正确,无法读取",
                          "the PDF is damaged or malformed and cannot be read") from exc
    # Running headers/footers: a line that opens or closes most pages of a longer document.
    drop: set[str] = set()
    if len(pages) >= 3:
        ends: dict[str, int] = {}
        for lines in pages:
            for line in {lines[0], lines[-1]} if lines else set():
                ends[line] = ends.get(line, 0) + 1
        drop = {line for line, n in ends.items() if n > len(pages) / 2}
    body_lines = [ln for lines in pages for ln in lines if ln not in drop and not _PAGE_NUMBER.match(ln)]
    if not any(re.search(r"\w", ln) for ln in body_lines):
        # Nothing but page numbers, or nothing at all: a scan (images) or text drawn as shapes.
        what_zh = "可能是扫描件" if images else "文字可能是图形"
        what_en = "a scan?" if images else "text drawn as shapes?"
        raise UploadError(422, "no_text_layer", f"PDF 没有文字层({what_zh}),请先进行文字识别(OCR)",
                          f"the PDF has no text layer ({what_en}); OCR it first")
    body = "\n".join(body_lines)
    title = _choose_title(_meta_title(info.get("Title")), _first_line(body), stem)
    for key, name in (("Author", "author"), ("Subject", "description")):
        value = info.get(key)
        if isinstance(value, str) and value.strip() and value.strip().lower() not in {"unspecified", "anonymous"}:
            page_meta[name] = value.strip()[:200]
    for key, name in (("CreationDate", "created"), ("ModDate", "modified")):
        date = _pdf_date(info.get(key))
        if date:
            page_meta[name] = date
    for key, value in scan_page(body).items():
        page_meta.setdefault(key, value)
    if title:
        page_meta.setdefault("title", title)
    return title, body, page_meta, "pdf"


def _check_docx_zip(data: bytes) -> None:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # BadZipFile, NotImplementedError (odd zip versions), OSError, ...
        raise UploadError(422, "malformed_docx", "Word 文件已损坏或格式不正确,无法读取",
                          "the Word file is damaged or malformed and cannot be read") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > DOCX_MAX_ENTRIES:
            raise UploadError(422, "zip_bomb", f"Word 文件内部条目过多(最多{DOCX_MAX_ENTRIES}个)",
                              f"the Word file holds too many parts (at most {DOCX_MAX_ENTRIES})")
        total = 0
        for info in infos:
            total += info.file_size
            ratio = info.file_size / max(1, info.compress_size)
            if (info.file_size > DOCX_MAX_ENTRY_BYTES or total > DOCX_MAX_TOTAL_BYTES
                    or (info.file_size > 1024 * 1024 and ratio > DOCX_MAX_RATIO)):
                raise UploadError(422, "zip_bomb", "Word 文件解压后过大(疑似压缩炸弹),已拒绝",
                                  "the Word file would expand to too much data (a zip bomb?); refused")
            if info.flag_bits & 0x1:
                raise UploadError(422, "encrypted_docx", "Word 文件已加密,请先解除密码保护",
                                  "the Word file is encrypted; remove its password first")


def _docx_heading_style(paragraph: Any) -> str:
    """"title", "heading" or "" for a paragraph's style (English or Chinese style names)."""
    try:
        name = (paragraph.style.name or "") if paragraph.style is not None else ""
    except (KeyError, ValueError, AttributeError):
        return ""
    lowered = name.lower()
    if lowered == "title" or name == "标题":
        return "title"
    if lowered.startswith("heading") or name.startswith("标题"):
        return "heading"
    return ""


def _docx_lines(document: Any) -> tuple[list[str], str]:
    """Body paragraphs and table rows in document order, and the first Title/Heading paragraph."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    lines: list[str] = []
    first_heading = ""  # a Title-style paragraph, or a heading that opens the document

    def table_lines(table: Table) -> None:
        for row in table.rows:
            cells: list[str] = []
            seen: set[int] = set()
            for cell in row.cells:
                if id(cell._tc) in seen:  # merged cells repeat
                    continue
                seen.add(id(cell._tc))
                parts = [" ".join(p.text.split()) for p in cell.paragraphs]
                for nested in cell.tables:
                    table_lines(nested)
                text = " ".join(p for p in parts if p)
                if text:
                    cells.append(text)
            if cells:
                lines.append(" | ".join(cells))

    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            paragraph = Paragraph(child, document)
            text = paragraph.text.strip()
            if not text:
                lines.append("")
                continue
            style = _docx_heading_style(paragraph)
            if style:
                opening = not any(line.strip() for line in lines)
                if not first_heading and (style == "title" or opening):
                    first_heading = text
                lines.extend(["", text, ""])
            else:
                lines.append(text)
        elif tag == "tbl":
            lines.append("")
            table_lines(Table(child, document))
            lines.append("")
    return lines, first_heading


def _parse_docx(data: bytes, stem: str) -> tuple[str, str, dict[str, str], str]:
    import docx

    _check_docx_zip(data)
    try:
        document = docx.Document(io.BytesIO(data))
        lines, first_heading = _docx_lines(document)
        props = document.core_properties
    except Exception as exc:  # PackageNotFoundError, KeyError, lxml's XMLSyntaxError, BadZipFile, ...
        raise UploadError(422, "malformed_docx", "Word 文件已损坏或格式不正确,无法读取",
                          "the Word file is damaged or malformed and cannot be read") from exc
    body = "\n".join(lines)
    page: dict[str, str] = {}
    title = first_heading or _choose_title(_meta_title(props.title), _first_line(body), stem)
    if props.author and props.author.strip():
        page["author"] = props.author.strip()[:200]
    if props.subject and props.subject.strip():
        page["description"] = props.subject.strip()[:500]
    for attr, name in (("created", "created"), ("modified", "modified")):
        value = getattr(props, attr, None)
        if value is not None:
            page[name] = value.date().isoformat()
    for key, value in scan_page(body).items():
        page.setdefault(key, value)
    if title:
        page.setdefault("title", title)
    return title, body, page, "docx"


def parse_upload(filename: str, data: bytes, *, max_bytes: int) -> ParsedDocument:
    """Check and read one uploaded file; raises UploadError (status 413, 415 or 422) if unusable."""
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError("max_bytes must be a positive integer")
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError("data must be bytes")
    name, suffix = check_filename(filename)
    data = bytes(data)
    if not data:
        raise UploadError(422, "empty_file", "文件为空", "the file is empty")
    if len(data) > max_bytes:
        raise UploadError(413, "too_large", f"文件过大(最多{_human(max_bytes)})",
                          f"the file is too large (at most {_human(max_bytes)})")
    fmt = TEXT_FORMATS[suffix]
    kind = sniff(data)
    if fmt in ("txt", "md", "html"):
        if kind is not None:
            raise _mismatch(kind, suffix)
    elif fmt == "pdf" and kind != "pdf":
        if kind is None:
            raise UploadError(415, "type_mismatch", "文件内容不是 PDF,与扩展名 .pdf 不符",
                              "the file's content is not a PDF, which does not match its .pdf extension")
        raise _mismatch(kind, suffix)
    elif fmt == "docx" and kind != "docx":
        if kind == "zip":
            # A zip without word/document.xml: a damaged Word file or another archive.
            _check_docx_zip(data)
            raise UploadError(415, "type_mismatch", "文件是 ZIP 压缩包但不是 Word(.docx)文件",
                              "the file is a ZIP archive but not a Word (.docx) document")
        if kind is None:
            raise UploadError(415, "type_mismatch", "文件内容不是 Word(.docx)文件,与扩展名 .docx 不符",
                              "the file's content is not a Word (.docx) document, which does not match its "
                              ".docx extension")
        raise _mismatch(kind, suffix)

    stem = PurePosixPath(name).stem
    if fmt in ("txt", "md"):
        title, raw, page, fmt = _parse_text(data, suffix, stem)
    elif fmt == "html":
        title, raw, page, fmt = _parse_html(data, stem)
    elif fmt == "pdf":
        title, raw, page, fmt = _parse_pdf(data, stem)
    else:
        title, raw, page, fmt = _parse_docx(data, stem)

    raw = raw[:MAX_TEXT_CHARS]
    # clean_page drops the body line equal to the title, so it gets the title as written.
    cleaned = clean_page(raw, title=normalise_whitespace(title).strip() or None)
    title = " ".join(normalise_whitespace(title).split())[:300] or stem
    if cleaned.date and "date" not in page:
        page["date"] = cleaned.date
    if not cleaned.text.strip():
        raise UploadError(422, "no_text", "清理后文件中没有正文", "no article text is left after cleaning")
    return ParsedDocument(
        filename=name, format=fmt, title=title, text=cleaned.text,
        sha256=hashlib.sha256(data).hexdigest(), size=len(data), page=page, removed_lines=cleaned.removed_lines,
    )


def _human(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:g} MB"
    if n >= 1024:
        return f"{n / 1024:g} KB"
    return f"{n} B"
