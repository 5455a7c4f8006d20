from pathlib import Path

import pytest

from ingest.clean import clean_page
from tests.conftest import RAW

BOILERPLATE = [
    "吴亮律师", "分钟前", "相关推荐", "大家都在问", "我也要提问", "温馨提示", "声明", "社保网声明",
    "本内容不能代替面诊", "宝来", "赤峰", "三甲医院", "健康新闻", "医保知识", "问题相似", "找法网小编",
    "大兴安岭", "养老金",
]


@pytest.mark.parametrize("path", sorted(RAW.glob("*.txt")), ids=lambda p: p.stem)
def test_no_boilerplate_survives(path: Path):
    text = clean_page(path.read_text(encoding="utf-8")).text
    for word in BOILERPLATE:
        assert word not in text, f"{word!r} left in {path.name}"
    assert "\n?\n" not in f"\n{text}\n"


def test_keeps_article_facts_and_structure():
    text = clean_page((RAW / "002_fd26648b1f8121fa.txt").read_text(encoding="utf-8")).text
    assert "设置90天待遇等待期,最早从2025年4月1日起享受医保报销待遇" in text
    assert "• 2025年度:每人每年400元" in text  # bullets kept
    assert "\n补缴后待遇\n" in text  # headings kept on their own line


def test_bare_numbering_joined_with_heading():
    text = clean_page((RAW / "000_991f4531c80f9026.txt").read_text(encoding="utf-8")).text
    assert "二、职工医疗保险的相关问题" in text
    assert "三、居民医保和职工医保的区别" in text


def test_header_date_and_title_removed():
    page = clean_page((RAW / "000_991f4531c80f9026.txt").read_text(encoding="utf-8"))
    assert page.date == "2021-07-17"
    assert not page.text.startswith("居民医保缴费中断了怎么办")
    assert "更新时间" not in page.text


def test_rules_generalise_to_unseen_page_of_same_site():
    page = """某地医保断缴怎么办

更新时间:2024-01-02 10:00
找法网官方整理
问题相似?直接咨询律师 >
导读:
医保断缴后需要尽快补缴。接下来由找法网小编为大家带来详细知识。

一、补缴方法

到社保局补缴即可。
?
温馨提示:本数据仅供参考!
相关推荐
某车型油耗怎么样
健康新闻 2025-01-01
"""
    cleaned = clean_page(page)
    assert cleaned.text.splitlines()[0] == "医保断缴后需要尽快补缴。"
    assert "一、补缴方法" in cleaned.text and "到社保局补缴即可。" in cleaned.text
    for word in ("小编", "温馨提示", "油耗", "咨询律师", "更新时间", "官方整理"):
        assert word not in cleaned.text
    assert cleaned.date == "2024-01-02"


def test_link_list_lines_dropped():
    page = "标题\n\n正文一句。\n甲文章 2025-05-17 13:20医保知识 乙文章 2025-05-17 13:19医保知识\n"
    assert clean_page(page).text == "正文一句。"
