"""Synthetic documents for the ``update`` bench part: a 5-page PDF notice about a made-up city, and
near-duplicate copies of real articles that fill a large index.

The notice (``notice_pdf``) reads like a municipal 医保 circular: a running header, numbered sections
whose sentences name the city, one unique rule sentence (``rule_sentence``: where and within how many
months a lapsed 职工医保 is paid back, and the late fee) and an appendix of real policy text from
``eval/data/ncp_policies``, laid out on exactly five A4 pages with reportlab's built-in Chinese CID font
(the text layer ``ingest.parse`` reads with pdfplumber). Changing ``variant`` changes the rule
sentence's office, months and fee, so a replacement is recognisable in answers.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

# Made-up cities (not in any gazetteer): an answer citing their rule can only come from the upload.
CITIES = ("青岚市", "澄川市", "墨溪市", "栖梧市", "霁州市", "汀兰市", "星渚市", "雾屿市", "岫云市", "琅溪市")
# Office names of the rule sentence, one per variant (v1, v2, …): the marker a replacement is checked by.
HALLS = ("云帆", "望湖", "临江", "东篱", "南屏", "北辰", "松涛", "竹影")
PAGES = 5
LINE_CHARS = 38  # full-width characters per line at 11 pt between 72 pt margins on A4
LINES_PER_PAGE = 36


@dataclass(frozen=True)
class Notice:
    city: str
    variant: int  # 1, 2, …: a replacement changes the rule sentence's office, months and fee
    issue: int = 0  # part of the title: notices of the same city and variant differ in every chunk

    @property
    def hall(self) -> str:
        return HALLS[(self.variant - 1) % len(HALLS)]

    @property
    def months(self) -> str:
        return CN_NUMBERS[(self.variant + 1) % len(CN_NUMBERS)]

    @property
    def fee(self) -> str:
        return CN_NUMBERS[(self.variant + 3) % len(CN_NUMBERS)]

    @property
    def question(self) -> str:
        return f"{self.city}职工医保断缴超过三个月怎么补缴?"

    @property
    def marker(self) -> str:
        """Text only this variant's rule sentence holds."""
        return f"{self.hall}服务大厅"

    @property
    def title(self) -> str:
        number = f"（第{self.issue}号）" if self.issue else ""
        return f"{self.city}医疗保障局关于做好职工基本医疗保险断缴补缴工作的通知{number}"


CN_NUMBERS = ("一", "二", "三", "四", "五", "六", "七", "八", "九")


def notice(city: str, variant: int = 1, issue: int = 0) -> Notice:
    return Notice(city, variant, issue)


def rule_sentence(n: Notice) -> str:
    return (f"{n.city}规定：职工医保断缴超过三个月的，参保人应当在断缴之日起{n.months}个月内到{n.city}医疗保障局"
            f"{n.marker}办理补缴，逾期补缴的按日加收万分之{n.fee}的滞纳金。")


def _sections(n: Notice) -> list[str]:
    c = n.city
    return [
        n.title,
        f"各区县医疗保障分局、各参保单位：为规范{c}职工基本医疗保险费征缴和待遇享受管理，保障参保人员合法权益，"
        f"根据《中华人民共和国社会保险法》和省有关规定，结合{c}实际，现就职工医保断缴补缴有关事项通知如下。",
        "一、适用范围",
        f"本通知适用于在{c}参加职工基本医疗保险的用人单位及其职工、以个人身份参保的灵活就业人员。"
        "退休人员、异地安置人员的相关事项另行规定。",
        "二、断缴的认定",
        f"用人单位或个人未按规定足额缴纳职工医保费的，自欠缴次月起认定为断缴。{c}医疗保障局每月向参保单位推送欠费"
        "信息，单位应当在收到信息后十五个工作日内核实并处理。",
        "三、补缴办理",
        rule_sentence(n),
        f"单位为职工补缴的，由单位经办人员通过{c}医保网上服务大厅提交补缴申请；灵活就业人员可以通过“{c}医保”微信公众号"
        "或者各区县医保经办窗口办理。补缴基数按照断缴期间各年度的缴费基数确定。",
        "四、待遇享受",
        "断缴三个月以内并按规定补缴的，断缴期间发生的住院医疗费用可以按规定申请报销。断缴超过三个月的，补缴后设置"
        f"待遇等待期，等待期满后方可享受统筹基金支付待遇。{c}职工医保累计缴费年限按实际缴费月数计算。",
        "五、所需材料",
        "办理补缴需要提供本人有效身份证件、社会保障卡、劳动合同或者工资发放记录；由单位补缴的，还需提供单位补缴申请表"
        "和加盖公章的情况说明。材料不全的，经办机构一次性告知需要补正的全部内容。",
        "六、监督管理",
        f"{c}医疗保障局会同税务部门加强对欠费单位的催缴，对拒不补缴的依法处理。任何单位和个人不得以虚构劳动关系等"
        "方式骗取医保待遇。",
        "七、其他",
        f"本通知自印发之日起施行，由{c}医疗保障局负责解释。此前规定与本通知不一致的，以本通知为准。",
        "附件：有关政策摘录",
    ]


def _wrap(paragraph: str) -> list[str]:
    return [paragraph[i : i + LINE_CHARS] for i in range(0, len(paragraph), LINE_CHARS)] or [""]


def notice_lines(n: Notice, filler: list[str]) -> list[list[str]]:
    """The notice laid out on exactly ``PAGES`` pages of at most ``LINES_PER_PAGE`` lines each; the appendix
    (``filler``: paragraphs of real policy text) fills the rest."""
    lines: list[str] = []
    for para in _sections(n):
        lines.extend(_wrap(para))
    budget = PAGES * LINES_PER_PAGE
    for para in filler:
        if len(lines) >= budget:
            break
        lines.extend(_wrap(" ".join(para.split())))
    if len(lines) < budget - LINES_PER_PAGE:
        raise ValueError("not enough filler text for five pages")
    lines = lines[:budget]
    return [lines[i : i + LINES_PER_PAGE] for i in range(0, budget, LINES_PER_PAGE)]


def notice_pdf(n: Notice, filler: list[str]) -> bytes:
    """A real five-page PDF (reportlab, built-in STSong-Light CID font) with a running header and page numbers."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buf = io.BytesIO()
    c = canvas.Canvas(buf, pagesize=A4)
    c.setTitle(n.title)
    c.setAuthor(f"{n.city}医疗保障局")
    for number, page in enumerate(notice_lines(n, filler), 1):
        c.setFont("STSong-Light", 9)
        c.drawString(72, 800, f"{n.city}医疗保障局文件")  # running header: dropped by the parser
        y = 770
        for line in page:
            c.setFont("STSong-Light", 11)
            c.drawString(72, y, line)
            y -= 19
        c.setFont("STSong-Light", 9)
        c.drawString(290, 40, f"- {number} -")
        c.showPage()
    c.save()
    return buf.getvalue()


def filler_paragraphs(texts: list[str], start: int = 0) -> list[str]:
    """Paragraphs of real policy text (ncp_policies documents), from the ``start``-th text on, cycling."""
    out: list[str] = []
    for i in range(len(texts)):
        for para in texts[(start + i) % len(texts)].split("\n"):
            if len(para.strip()) >= 20:
                out.append(para.strip())
        if sum(map(len, out)) > PAGES * LINES_PER_PAGE * LINE_CHARS:
            break
    return out


# --- near-duplicate copies of real articles -------------------------------------------------------------

def perturbed(title: str, text: str, copy: int, city: str) -> tuple[str, str]:
    """Copy ``copy`` (≥ 1) of an article, as if another city had reissued it: the city's name in the title and
    a first line, every digit shifted by ``copy`` (dates, amounts and article numbers differ)."""
    shift = str.maketrans("0123456789", "".join(str((d + copy) % 10) for d in range(10)))
    return f"{title.translate(shift)}({city}转发)", f"{city}医疗保障局转发。\n{text.translate(shift)}"
