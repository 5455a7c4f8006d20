"""ingest.metadata: page hints, detection rules, checked given metadata, and the corpus figures."""

from __future__ import annotations

import pytest

from ingest.metadata import (
    check_corpus,
    detect_metadata,
    field_matches,
    main,
    merge_metadata,
    normalise_date,
    scan_page,
)

BODY = "医保断缴后可以补缴,补缴后次月恢复待遇。"


@pytest.mark.parametrize(
    ("value", "iso"),
    [("2025-05-17", "2025-05-17"), ("2025/5/7", "2025-05-07"), ("2025.05.17", "2025-05-17"),
     ("2025年5月17日", "2025-05-17"), ("2025-05-17T13:22:00+08:00", "2025-05-17"), ("20250517", "2025-05-17"),
     ("2025-05-17 13:22:18社保网", "2025-05-17"), ("2025-02-30", None), ("17/05/2025", None), ("", None), (None, None)],
)
def test_normalise_date(value, iso):
    assert normalise_date(value) == iso


# --- dates -----------------------------------------------------------------------------------------


def test_rule_dates_in_the_body_are_not_the_page_date():
    text = "缴费时间\n集中缴费期:2024年9月10日至12月25日。\n补充缴费期:2025年1月1日至2月28日。\n" + BODY
    assert "date" not in detect_metadata("嘉峪关居民医保缴费标准", text)


def test_date_sources_in_order():
    text = "发布日期:2024年3月1日\n" + BODY
    assert detect_metadata("通知", text)["date"] == "2024-03-01"
    assert detect_metadata("天津医保补缴流程(2025/05/17)", BODY)["date"] == "2025-05-17"
    assert detect_metadata("天津医保补缴流程(25/05/17)", BODY)["date"] == "2025-05-17"
    assert detect_metadata("天津医保补缴流程(2025/05/17)", text, {"date": "2023-01-02"})["date"] == "2023-01-02"
    assert detect_metadata("标题(05/17)", BODY).get("date") is None  # no year, no date


def test_scan_page_header_labels_stamp_and_signature():
    assert scan_page("标题\n\n更新时间:2021-07-17 01:52\n找法网官方整理\n正文。")["date"] == "2021-07-17"
    assert scan_page("标题\n2025-05-17 13:22:18社保网\n正文。") == {"date": "2025-05-17", "publisher": "社保网"}
    notice = "关于做好缴费工作的通知\n各单位:\n" + BODY + "\n\n嘉峪关市医疗保障局\n2024年12月20日\n"
    assert scan_page(notice) == {"date": "2024-12-20", "publisher": "嘉峪关市医疗保障局"}
    # 发布时间 beats 更新时间; a label inside a longer word (缴费时间) is not a page date.
    assert scan_page("更新时间:2025-01-02\n发布时间:2024-12-01\n正文")["date"] == "2024-12-01"
    assert "date" not in scan_page("缴费时间:2025年1月1日\n正文")
    assert "date" not in scan_page("标题\n发布时间:2025年1月1日至2月28日\n正文")  # a period, not a date
    body = "\n".join(["标题", *[f"第{i}段正文。" for i in range(10)], "• 时间:2025年3月1日"])
    assert "date" not in scan_page(body)  # a bare "时间:" deep in the body is a rule's date


def test_teaser_lists_give_the_site_but_not_the_date():
    page = "标题\n\n" + BODY + "\n相关推荐\n\n别的文章\n\n健康新闻 2025-03-28\n\n又一篇\n\n健康新闻 2025-03-28\n"
    assert scan_page(page) == {"publisher": "健康新闻"}


@pytest.mark.parametrize(
    ("line", "publisher"),
    [("来源:嘉峪关市医疗保障局", "嘉峪关市医疗保障局"), ("信息来源：国家医保局 2025-01-02", "国家医保局"),
     ("社保网声明:资讯来源于网络", "社保网"), ("找法网官方整理", "找法网")],
)
def test_publisher_lines(line, publisher):
    assert scan_page(f"标题\n{line}\n{BODY}")["publisher"] == publisher


def test_author_and_source_url():
    hints = scan_page(f"标题\n作者:张三\n{BODY}\n原文链接:https://www.nhsa.gov.cn/art/1.html")
    assert hints["author"] == "张三" and hints["source_url"] == "https://www.nhsa.gov.cn/art/1.html"


# --- regions ---------------------------------------------------------------------------------------


def test_region_in_title_counts_most():
    text = "举例:深圳张女士断缴4个月。部分城市允许补缴(如南京、上海)。在一线城市,如北京,需要连续缴费。" + BODY
    meta = detect_metadata("天津医保断交后网上补缴流程", text)
    assert meta["regions"] == ["天津"] and meta["mentioned_regions"] == ["深圳", "南京", "上海", "北京"]


def test_example_regions_alone_mean_national():
    text = "各地缴费年限规定不同,例如广州医保最低缴费年限为15年。" + BODY
    meta = detect_metadata("居民医保缴费中断了怎么办", text)
    assert meta["regions"] == ["全国"] and meta["mentioned_regions"] == ["广州"]
    assert detect_metadata("医保断缴怎么办", BODY)["regions"] == ["全国"]
    assert detect_metadata("中国医保断缴怎么办", BODY)["regions"] == ["全国"]


def test_region_that_carries_the_text():
    text = "成都市参保人断缴后…\n成都的补缴期为3个月。\n以成都市规定为准。\n以重庆为例,等待期为6个月。"
    meta = detect_metadata("医保断缴怎么补", text)
    assert meta["regions"] == ["成都市"] and meta["mentioned_regions"] == ["重庆"]
    # Named once among others: not enough to make a national article local.
    assert detect_metadata("医保断缴怎么补", "成都、重庆、西安都可以补缴。" + BODY)["regions"] == ["全国"]


def test_issuing_agency_gives_the_region():
    notice = "关于做好2025年度参保缴费工作的通知\n" + BODY + "\n\n嘉峪关市医疗保障局\n2024年12月20日\n"
    meta = detect_metadata("关于做好2025年度参保缴费工作的通知", notice)
    assert meta["regions"] == ["嘉峪关市"] and meta["publisher"] == "嘉峪关市医疗保障局"
    assert meta["date"] == "2024-12-20"
    # A news site's name is not an agency.
    assert detect_metadata("医保", BODY, {"publisher": "北京青年报"})["regions"] == ["全国"]


def test_news_dateline_is_not_the_subject():
    text = "新华社北京2月11日电 国家医保局发布通知,各地要做好参保工作。北京、上海、广州等地已经开始。" + BODY
    assert detect_metadata("医保参保通知", text)["regions"] == ["全国"]


# --- insurance types, validity ---------------------------------------------------------------------


def test_insurance_types_by_what_the_text_talks_about():
    assert detect_metadata("职工医保中断后如何续保", BODY)["insurance_types"] == ["职工医保"]
    text = "灵活就业人员可以补缴。以灵活就业人员身份参保的…。新单位参保的,由所在单位申报。"
    assert detect_metadata("居民医保已缴费暂停后如何恢复", text)["insurance_types"] == [
        "城乡居民医保", "灵活就业", "职工医保"]
    # One passing mention is not a topic.
    assert detect_metadata("医保", "可以使用近亲属的职工医保个人账户。" + BODY)["insurance_types"] == []


def test_effective_and_expiry_dates():
    text = "本办法自2025年1月1日起施行,有效期至2026年12月31日。补充缴费期:2025年3月1日至3月31日。"
    meta = detect_metadata("办法", text)
    assert meta["effective_from"] == "2025-01-01" and meta["expires"] == "2026-12-31"
    meta = detect_metadata("办法", "本通知自2024年7月1日起执行,有效期5年。")
    assert meta["effective_from"] == "2024-07-01" and meta["expires"] == "2029-06-30"
    meta = detect_metadata("办法", "执行期限为2025年1月1日至2027年12月31日。")
    assert meta["expires"] == "2027-12-31" and "effective_from" not in meta
    assert "effective_from" not in detect_metadata("办法", "自印发之日起施行。")


# --- given metadata --------------------------------------------------------------------------------


def test_given_values_win():
    detected = detect_metadata("天津医保断缴(2025/05/17)", "举例:深圳张女士断缴4个月。" + BODY)
    merged = merge_metadata({"regions": ["深圳"], "date": "2025-06-01", "publisher": "天津医保局", "title": "",
                             "source_url": "https://example.org/a"}, detected)
    assert merged["regions"] == ["深圳"] and merged["date"] == "2025-06-01" and merged["publisher"] == "天津医保局"
    assert merged["title"] == "天津医保断缴(2025/05/17)"  # blank given values do not count
    assert merged["mentioned_regions"] == []  # 深圳 is now the article's own region
    assert merged["source_url"] == "https://example.org/a"


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", 3), ("title", "a\x00b"), ("regions", "天津"), ("regions", ["天津", 3]), ("regions", [""]),
     ("date", "2025/05/17"), ("date", "2025-02-30"), ("date", 20250517), ("effective_from", "tomorrow"),
     ("expires", "2025-13-01"), ("insurance_types", "职工医保"), ("insurance_types", ["商业保险"]),
     ("publisher", ["社保网"]), ("source_url", "ftp://example.org/a"), ("source_url", "javascript:alert(1)"),
     ("source_url", "https://"), ("source_url", "https://exa mple.org"), ("source_url", 5), ("extra", {"a": 1})],
)
def test_bad_given_metadata_names_the_field(field, value):
    with pytest.raises(ValueError, match=f"^{field}:"):
        merge_metadata({field: value}, {"title": "t", "regions": ["全国"]})


def test_expiry_before_start_is_refused():
    with pytest.raises(ValueError, match="^expires:"):
        merge_metadata({"effective_from": "2025-01-01", "expires": "2024-12-31"}, {})


# --- measured on the five real articles ------------------------------------------------------------


def test_field_matches_compares_places():
    assert field_matches("regions", ["甘肃嘉峪关"], ["嘉峪关"]) and not field_matches("regions", ["兰州"], ["嘉峪关"])
    assert field_matches("insurance_types", ["职工医保", "灵活就业"], ["灵活就业", "职工医保"])
    assert field_matches("date", None, None) and not field_matches("date", "2025-01-01", None)


def test_detection_matches_the_hand_typed_corpus_metadata():
    rows = check_corpus()
    scored = [r for r in rows if r["scored"]]
    assert len(scored) == 15  # 5 articles × regions, date, insurance_types
    misses = [(r["doc_id"], r["field"], r["detected"], r["truth"]) for r in scored if not r["match"]]
    assert misses == []
    extra = [r for r in rows if not r["scored"]]
    assert all(r["match"] for r in extra)  # mentioned_regions and publisher too


def test_check_command_prints_the_table(capsys):
    assert main(["--check"]) == 0
    out = capsys.readouterr().out
    assert "002_fd26648b1f8121fa" in out and "甘肃嘉峪关" in out and "regions: 5/5" in out
