"""ingest.parse: real files of every accepted format, and every kind of bad upload."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import socket
import struct
import zipfile

import pytest

from ingest.corpus import load_corpus
from ingest.parse import (
    DOCX_MAX_ENTRIES,
    ParsedDocument,
    UploadError,
    check_filename,
    parse_upload,
    sniff,
)
from tests.conftest import CORPUS, RAW

MAX = 2 * 1024 * 1024

ARTICLE = [
    "医保断缴后可以补缴,具体方案因断缴原因、时间及参保类型而异,需结合实际情况处理。",
    "断缴3个月以内的,单位可以补缴,补缴后次月恢复医保待遇,断缴期间的费用可以追溯报销。",
    "断缴超过3个月的,需要重新计算连续缴费年限,待遇等待期为6个月。",
]


def parse(name: str, data: bytes, max_bytes: int = MAX) -> ParsedDocument:
    return parse_upload(name, data, max_bytes=max_bytes)


def refused(name: str, data: bytes, max_bytes: int = MAX) -> UploadError:
    with pytest.raises(UploadError) as info:
        parse_upload(name, data, max_bytes=max_bytes)
    err = info.value
    assert err.message_zh and err.message_en and str(err) == f"{err.message_zh} / {err.message_en}"
    return err


# --- file builders ---------------------------------------------------------------------------------


def make_pdf(pages: list[list[str]], *, title: str = "", author: str = "", encrypt: str | None = None) -> bytes:
    """A real PDF whose Chinese text layer uses reportlab's built-in CID font (pdfplumber extracts it)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4, encrypt=encrypt)
    if title:
        c.setTitle(title)
    if author:
        c.setAuthor(author)
    for number, lines in enumerate(pages, 1):
        y = 780
        for line in lines:
            c.setFont("STSong-Light", 11)
            c.drawString(72, y, line)
            y -= 18
        c.setFont("STSong-Light", 9)
        c.drawString(290, 40, f"- {number} -")  # a page number in the footer
        c.showPage()
    c.save()
    return buf.getvalue()


def make_image_pdf() -> bytes:
    """A scan: one page holding only a picture, no text layer."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.drawImage(ImageReader(Image.new("RGB", (400, 300), "white")), 72, 400, 400, 300)
    c.showPage()
    c.save()
    return buf.getvalue()


def make_docx(*, core_title: str = "") -> bytes:
    import docx

    d = docx.Document()
    if core_title:
        d.core_properties.title = core_title
    d.core_properties.author = "嘉峪关市医疗保障局"
    d.add_heading("嘉峪关居民医保补缴指南", level=0)  # the "Title" style
    d.add_paragraph(ARTICLE[0])
    d.add_heading("一、补缴时间", level=1)
    d.add_paragraph("补充缴费期为2025年1月1日至2月28日。")
    table = d.add_table(rows=3, cols=2)
    for row, (a, b) in zip(table.rows, [("断缴时长", "等待期"), ("3个月以内", "无"), ("超过3个月", "6个月")]):
        row.cells[0].text, row.cells[1].text = a, b
    d.add_heading("二、注意事项", level=1)
    d.add_paragraph(ARTICLE[2])
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def zip_bytes(members: dict[str, bytes], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def declare_size(data: bytes, member: str, size: int) -> bytes:
    """Rewrite a member's declared uncompressed size in the zip's central directory."""
    raw = bytearray(data)
    pos = raw.find(b"PK\x01\x02" + b"", 0)
    while pos != -1:
        name_len = struct.unpack_from("<H", raw, pos + 28)[0]
        name = bytes(raw[pos + 46: pos + 46 + name_len]).decode()
        if name == member:
            struct.pack_into("<I", raw, pos + 24, size)
            return bytes(raw)
        pos = raw.find(b"PK\x01\x02", pos + 4)
    raise AssertionError(member)


PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>天津医保断缴怎么补缴_社保网</title>
<meta name="PubDate" content="2025-05-17 13:22">
<meta name="author" content="李四">
<meta property="og:site_name" content="社保网">
<link rel="stylesheet" href="http://example.invalid/site.css">
<script src="http://example.invalid/app.js"></script>
</head><body>
<div class="nav"><a href="/">首页</a> | <a href="/a">医保知识</a> | <a href="/b">养老保险</a> |
<a href="/c">登录注册</a></div>
<article><h1>天津医保断缴怎么补缴</h1>
<p>{p0}</p>
<h2>一、职工补缴</h2>
<p>{p1}</p>
<p>{p2}</p>
<table><tr><td>断缴时长</td><td>等待期</td></tr><tr><td>3个月以内</td><td>无</td></tr></table>
<img src="http://example.invalid/banner.png">
</article>
<div class="related"><h3>相关推荐</h3><ul>
<li><a href="/x">北京医保怎么交</a> 2025-05-17 13:20</li><li><a href="/y">上海医保余额</a> 2025-05-17 13:19</li>
</ul></div>
<div class="footer">版权所有 © 社保网 京ICP备12345678号 | 联系我们 | 关于我们 | 网站地图</div>
</body></html>
"""


def make_html(charset: str = "utf-8") -> bytes:
    page = PAGE.format(charset=charset, p0=ARTICLE[0], p1=ARTICLE[1], p2=ARTICLE[2])
    return page.encode("gb18030" if charset.lower() in ("gbk", "gb2312", "gb18030") else "utf-8")


# --- text files ------------------------------------------------------------------------------------


def test_txt_utf8_with_header_metadata():
    raw = "天津医保断缴怎么补缴\n\n更新时间:2025-05-17 13:22\n社保网官方整理\n\n" + "\n\n".join(ARTICLE)
    doc = parse("tianjin.txt", raw.encode("utf-8"))
    assert doc.format == "txt" and doc.title == "天津医保断缴怎么补缴" and doc.filename == "tianjin.txt"
    assert doc.text.split("\n\n") == ARTICLE  # title, header date and "官方整理" line are not body text
    assert doc.page["date"] == "2025-05-17" and doc.page["publisher"] == "社保网"
    assert doc.sha256 == hashlib.sha256(raw.encode("utf-8")).hexdigest() and doc.size == len(raw.encode("utf-8"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.title = "x"  # type: ignore[misc]


def test_txt_utf8_bom_and_gb18030_government_text():
    raw = ("嘉峪关市医疗保障局关于2025年度居民医保缴费的通知\n\n" + "\n".join(ARTICLE)
           + "\n\n嘉峪关市医疗保障局\n2024年12月20日\n")
    bom = parse("a.txt", b"\xef\xbb\xbf" + raw.encode("utf-8"))
    gb = parse("b.txt", raw.encode("gb18030"))
    gbk = parse("c.txt", raw.encode("gbk"))
    assert bom.text == gb.text == gbk.text and ARTICLE[1] in gb.text
    assert not bom.title.startswith("\ufeff") and gb.title == "嘉峪关市医疗保障局关于2025年度居民医保缴费的通知"
    assert gb.page["publisher"] == "嘉峪关市医疗保障局" and gb.page["date"] == "2024-12-20"  # the notice's signature


def test_text_without_a_title_line_keeps_its_first_sentence():
    doc = parse("断缴须知.txt", "\n".join(ARTICLE).encode())
    assert doc.title == "断缴须知" and doc.text.splitlines() == ARTICLE


def test_utf16_with_bom_is_read():
    raw = "标题\n\n" + ARTICLE[0]
    assert parse("a.txt", raw.encode("utf-16")).text == ARTICLE[0]


def test_markdown_headings_kept_as_lines():
    raw = "# 居民医保断缴怎么办\n\n## 一、补缴\n\n" + ARTICLE[0] + "\n\n**注意**:详见[官网](https://example.invalid)。\n"
    doc = parse("a.md", raw.encode("utf-8"))
    assert doc.format == "md" and doc.title == "居民医保断缴怎么办"
    assert doc.text.splitlines()[0] == "一、补缴" and "注意:详见官网。" in doc.text and "#" not in doc.text


def test_real_corpus_page_parses_like_the_corpus_loader():
    docs = {d.doc_id: d for d in load_corpus(CORPUS)}
    for path in sorted(RAW.glob("*.txt")):
        doc = parse(path.name, path.read_bytes(), max_bytes=10**7)
        assert doc.text == docs[path.stem].text and doc.title == docs[path.stem].title
    tj = parse("003.txt", (RAW / "003_4866c6536e7694db.txt").read_bytes())
    assert tj.page["date"] == "2025-05-17" and tj.page["publisher"] == "社保网"


# --- web pages -------------------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """Any attempt to open a connection fails the test."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_html_article_without_navigation_and_footer(no_network):
    doc = parse("page.html", make_html())
    assert doc.format == "html" and doc.title == "天津医保断缴怎么补缴"
    for paragraph in ARTICLE:
        assert paragraph in doc.text
    assert "一、职工补缴" in doc.text.splitlines()  # headings stay lines
    assert "断缴时长 | 等待期" in doc.text.splitlines() and "3个月以内 | 无" in doc.text.splitlines()
    for furniture in ("首页", "登录注册", "相关推荐", "北京医保怎么交", "版权所有", "ICP", "联系我们", "网站地图"):
        assert furniture not in doc.text
    assert doc.page["date"] == "2025-05-17" and doc.page["publisher"] == "社保网" and doc.page["author"] == "李四"


def test_html_gbk_page_and_title_from_title_tag(no_network):
    page = make_html("gbk").replace("<h1>天津医保断缴怎么补缴</h1>".encode("gb18030"), b"")
    doc = parse("page.htm", page)
    assert ARTICLE[1] in doc.text
    assert doc.title == "天津医保断缴怎么补缴"  # "天津医保断缴怎么补缴_社保网" without the site name


def test_html_og_title_wins(no_network):
    page = make_html().replace(b"<head>", '<head><meta property="og:title" content="医保补缴指南">'.encode())
    assert parse("page.html", page).title == "医保补缴指南"


def test_html_header_lines_give_date_and_publisher(no_network):
    page = (f"<html><head><title>通知_国家医疗保障局</title></head><body><div class='info'>发布时间:2025-01-02 "
            f"来源:国家医疗保障局</div><div class='content'><p>{ARTICLE[0]}</p><p>{ARTICLE[1]}</p></div></body></html>")
    doc = parse("notice.html", page.encode())
    assert doc.page["date"] == "2025-01-02" and doc.page["publisher"] == "国家医疗保障局" and doc.title == "通知"


def test_html_without_article_text_is_refused(no_network):
    for body in ("<h1>只有标题</h1>", "", "<p>相关推荐</p><p>别的文章 2025-01-01 10:00</p>"):
        page = f"<html><head><title>只有标题</title></head><body>{body}</body></html>".encode()
        err = refused("page.html", page)
        assert (err.status, err.code) == (422, "no_text")


# --- PDF -------------------------------------------------------------------------------------------


def test_pdf_with_chinese_text_layer():
    wrapped = [  # one paragraph over three lines of the same width: joined back into one line
        "补充缴费期为2025年1月1日至2月28日,在补充缴费期缴费的,设置九十天待遇等",
        "待期,最早从2025年4月1日起享受医保报销待遇,集中缴费期缴费的从1月1日",
        "起享受待遇。",
    ]
    data = make_pdf(
        [["嘉峪关居民医保补缴通知", "一、补缴时间", *wrapped], ["二、缴费标准", "2025年度个人缴费每人每年400元。"]],
        title="Microsoft Word - 通知.docx", author="嘉峪关市医疗保障局",
    )
    doc = parse("notice.pdf", data)
    assert doc.format == "pdf" and doc.title == "嘉峪关居民医保补缴通知"
    lines = doc.text.splitlines()
    assert lines[0] == "一、补缴时间" and "".join(wrapped) in lines
    assert lines.index("二、缴费标准") > lines.index("".join(wrapped))  # pages in order
    assert not any(line.strip("- ").isdigit() for line in lines)  # page numbers dropped
    assert doc.page["author"] == "嘉峪关市医疗保障局" and "created" in doc.page


def test_pdf_running_header_dropped():
    pages = [["嘉峪关市医疗保障局文件", f"第{i}部分", ARTICLE[i]] for i in range(3)]
    doc = parse("a.pdf", make_pdf(pages))
    assert "嘉峪关市医疗保障局文件" not in doc.text and all(p in doc.text for p in ARTICLE)


def test_scanned_pdf_without_text_layer():
    err = refused("scan.pdf", make_image_pdf())
    assert (err.status, err.code) == (422, "no_text_layer") and "OCR" in err.message_en


def test_pdf_with_only_page_numbers_has_no_text_layer():
    err = refused("blank.pdf", make_pdf([[], []]))
    assert (err.status, err.code) == (422, "no_text_layer")


def test_encrypted_pdf():
    err = refused("secret.pdf", make_pdf([["标题", ARTICLE[0]]], encrypt="secret"))
    assert (err.status, err.code) == (422, "encrypted_pdf")


@pytest.mark.parametrize("data", [b"%PDF-1.4\ngarbage", b"%PDF-1.7\n" + bytes(200), b"%PDF-"])
def test_malformed_pdf(data):
    err = refused("bad.pdf", data)
    assert (err.status, err.code) == (422, "malformed_pdf")


# --- Word ------------------------------------------------------------------------------------------


def test_docx_paragraphs_headings_and_table_in_order():
    doc = parse("guide.docx", make_docx(core_title="旧模板标题"))
    # The Title paragraph, not the template's stale core-properties title.
    assert doc.format == "docx" and doc.title == "嘉峪关居民医保补缴指南"
    lines = [x for x in doc.text.splitlines() if x]
    assert lines == [
        ARTICLE[0], "一、补缴时间", "补充缴费期为2025年1月1日至2月28日。",
        "断缴时长 | 等待期", "3个月以内 | 无", "超过3个月 | 6个月", "二、注意事项", ARTICLE[2],
    ]
    assert doc.page["author"] == "嘉峪关市医疗保障局"


def test_docx_zip_bomb_by_ratio():
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                      "word/media/filler.bin": bytes(8 * 1024 * 1024)})  # 8 MB of zeros → ~8 KB
    assert len(bomb) < 100_000
    err = refused("bomb.docx", bomb)
    assert (err.status, err.code) == (422, "zip_bomb")


def test_docx_zip_bomb_by_declared_size():
    data = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>",
                      "word/media/big.bin": b"x" * 1000}, compression=zipfile.ZIP_STORED)
    bomb = declare_size(data, "word/media/big.bin", 3_000_000_000)
    assert zipfile.ZipFile(io.BytesIO(bomb)).getinfo("word/media/big.bin").file_size == 3_000_000_000
    err = refused("bomb.docx", bomb)
    assert (err.status, err.code) == (422, "zip_bomb")


def test_docx_zip_with_too_many_entries():
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    members.update({f"word/p{i}.xml": b"" for i in range(DOCX_MAX_ENTRIES)})
    err = refused("many.docx", zip_bytes(members, zipfile.ZIP_STORED))
    assert (err.status, err.code) == (422, "zip_bomb")


def test_malformed_docx():
    broken_xml = zip_bytes({"[Content_Types].xml": b"<Types", "word/document.xml": b"<w:document"})
    assert refused("a.docx", broken_xml).code == "malformed_docx"
    truncated = make_docx()[:300]
    err = refused("b.docx", truncated)
    assert (err.status, err.code) == (422, "malformed_docx")


# --- refusals --------------------------------------------------------------------------------------


def test_empty_file():
    err = refused("a.txt", b"")
    assert (err.status, err.code) == (422, "empty_file")


def test_file_over_the_limit():
    err = refused("a.txt", ("标题\n" + "医保" * 600).encode(), max_bytes=1024)
    assert (err.status, err.code) == (413, "too_large") and "1 KB" in err.message_en


@pytest.mark.parametrize("name", ["a.exe", "a.doc", "a.xlsx", "a", "a.txt.zip", "a.PDFX", ".txt"])
def test_unsupported_extension(name):
    err = refused(name, b"hello")
    assert (err.status, err.code) == (415, "unsupported_type")
    if name == "a.doc":
        assert ".docx" in err.message_en


def test_upper_case_extension_is_accepted():
    assert parse("A.TXT", ("标题\n" + ARTICLE[0]).encode()).format == "txt"


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("a.pdf", make_docx(), "Word"),  # a DOCX named .pdf
        ("a.pdf", zip_bytes({"x.txt": b"x"}), "ZIP"),  # a ZIP named .pdf
        ("a.pdf", "普通文字".encode(), "not a PDF"),
        ("a.docx", make_pdf([["标题", "正文。"]]), "PDF"),  # a PDF named .docx
        ("a.docx", zip_bytes({"xl/workbook.xml": b"<x/>"}), "Excel"),
        ("a.docx", zip_bytes({"x.txt": b"x"}), "not a Word"),
        ("a.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old Office"),  # .doc or encrypted
        ("a.docx", "纯文本".encode(), "not a Word"),
        ("a.txt", b"\x89PNG\r\n\x1a\n" + bytes(100), "image"),  # binary named .txt
        ("a.txt", make_pdf([["标题", "正文。"]]), "PDF"),
        ("a.md", zip_bytes({"x.txt": b"x"}), "ZIP"),
        ("a.html", b"\x1f\x8b\x08\x00" + bytes(50), "compressed"),
    ],
)
def test_extension_that_does_not_match_content(name, data, kind):
    err = refused(name, data)
    assert (err.status, err.code) == (415, "type_mismatch") and kind in err.message_en


def test_damaged_utf8_is_not_read_as_gb18030():
    good = ("标题\n" + ARTICLE[0] * 3).encode("utf-8")
    for damaged in (good[:-1], good[:40] + b"\xff" + good[40:]):
        assert refused("a.txt", damaged).code == "undecodable"  # not silently turned into mojibake


def test_binary_or_undecodable_text():
    assert refused("a.txt", b"abc\x00\x01\x02def" * 10).code == "not_text"
    assert refused("a.txt", bytes(range(1, 32)) * 20 + "标题".encode()).code == "not_text"
    latin1 = "Prämie für Versicherung: Café, naïve résumé, Größe".encode("latin-1")  # neither UTF-8 nor Chinese
    err = refused("a.txt", latin1)
    assert (err.status, err.code) == (422, "undecodable")


@pytest.mark.parametrize(
    "name",
    ["../x.txt", "x.txt:stream", "a/b.txt", "/etc/passwd.txt", "C:\\x.txt", "C:x.txt", "..\\..\\x.txt", "", "   ",
     "a\x00.txt", "a\nb.txt", "a\tb.txt", "\u202etxt.exe.txt", "a.txt ", " a.txt", "a.txt.", "x" * 300 + ".txt"],
)
def test_bad_file_names(name):
    err = refused(name, ("标题\n" + ARTICLE[0]).encode())
    assert (err.status, err.code) == (422, "bad_filename")


def test_filename_not_echoed():
    err = refused("../秘密文件名.exe", b"x")
    assert "秘密文件名" not in str(err) and err.to_dict()["error"] == "bad_filename"
    assert set(err.to_dict()) == {"error", "message", "message_zh", "message_en", "detail"}


def test_nothing_left_after_cleaning():
    page = "只有标题\n\n更新时间:2024-01-02 10:00\n找法网官方整理\n相关推荐\n别的文章\n健康新闻 2025-01-01\n"
    err = refused("a.txt", page.encode())
    assert (err.status, err.code) == (422, "no_text")
    assert refused("b.txt", "只有标题一行".encode()).code == "no_text"


def test_damaged_files_only_ever_raise_upload_errors():
    """A small deterministic fuzz: mutated real files of every format never crash the parser."""
    import random

    rng = random.Random(7)
    seeds = {".pdf": make_pdf([["标题", *ARTICLE]]), ".docx": make_docx(), ".html": make_html(),
             ".txt": ("标题\n" + "\n".join(ARTICLE)).encode()}
    for _ in range(80):
        ext = rng.choice(sorted(seeds))
        data = bytearray(seeds[ext])
        if rng.random() < 0.5:
            for _ in range(rng.randint(1, 10)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        else:
            data = data[: rng.randrange(1, len(data))]
        with contextlib.suppress(UploadError):
            parse_upload("f" + ext, bytes(data), max_bytes=MAX)


def test_check_filename_and_sniff():
    assert check_filename("通知.PDF") == ("通知.PDF", ".pdf")
    assert sniff(make_docx()) == "docx" and sniff(b"%PDF-1.7\n") == "pdf" and sniff("文字".encode()) is None
    assert sniff(b"MZ not a program, just text starting with MZ") is None
