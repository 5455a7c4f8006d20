from qa.sentences import split_units


def test_units_carry_document_offsets_and_heading_context():
    doc = (
        "准备材料\n\n• 身份证\n• 社保卡\n• 银行卡\n\n"
        "线上办理\n\n• 登录当地社保局官网或APP,找到入口。按照提示操作即可。"
    )
    units = split_units(doc, 0)
    texts = [u.text for u in units]
    assert texts[0] == "身份证、社保卡、银行卡。"  # short list items read together
    assert units[0].context == "准备材料"
    assert doc[units[0].start : units[0].end] == "身份证\n• 社保卡\n• 银行卡"
    assert texts[1:] == ["登录当地社保局官网或APP,找到入口。", "按照提示操作即可。"]
    for u in units[1:]:
        assert doc[u.start : u.end] == u.text and u.context == "线上办理"


def test_offsets_shift_with_chunk_start_and_numbering_is_stripped():
    text = "2. 办理新参保登记\n\n选择户籍或居住证对应的社区完成参保登记。"
    (unit,) = split_units(text, 100)
    assert unit.context == "办理新参保登记"
    assert unit.start == 100 + text.index("选择") and unit.end == 100 + len(text)
