"""Homophone typos corrected against the corpus vocabulary, and the guards that keep real words."""

import pytest

from qa.lexicon import Lexicon

# Chunk counts of a few words as the five articles have them (the real index gives these and more).
VOCAB = {"医保": 30, "报销": 20, "生效": 5, "退休": 8, "嘉峪关": 10, "滞纳金": 9, "账户": 7, "个人账户": 6,
         "补缴": 25, "分期": 1, "缓缴": 1, "恢复": 15, "待遇等待期": 6, "等待期": 8, "共济": 2, "失业": 2,
         "下限": 2, "不会": 3, "失败": 1}


@pytest.fixture(scope="module")
def lexicon():
    return Lexicon(VOCAB)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [("补上以后当月就能包销吗", "报销"), ("下个月才生小啊", "生效"), ("我爸在嘉玉关", "嘉峪关"),
     ("马上到推修年龄了", "退休"), ("滞拿金要我自己出吗", "滞纳金"), ("个人账护里的钱", "个人账户"),
     ("能不能分其或者缓教啊", "缓缴"), ("等代期多长", "等待期"), ("医保断了咋恢服", "恢复")],
)
def test_typos_that_sound_like_a_corpus_word_are_corrected(lexicon, typed, meant):
    assert meant in lexicon.correct(typed)


@pytest.mark.parametrize(
    "text",
    ["从事业单位辞职后医保怎么办", "我想问一下现在能不能交", "公积金断缴怎么补缴", "补交以后钱会补回来吗",
     "费率是百分之五", "这期间住院能报吗"],
)
def test_real_words_are_left_alone(lexicon, text):
    # 事业≠失业, 下现(在)≠下限, 公积(金)≠共济, 补回≠不会, 是百(分)≠失败: common or known words are not typos.
    assert lexicon.correct(text) == text


def test_in_a_large_general_corpus_only_domain_or_frequent_words_are_targets():
    # 市委 and 中队 are rare among 10,000 chunks and not 医保 words: 市为/中对 stay as typed.
    lex = Lexicon({"市委": 150, "中队": 5, "医保": 900, "报销": 700}, n_chunks=10_000)
    assert lex.correct("淮安市为台资企业提供哪些便利") == "淮安市为台资企业提供哪些便利"
    assert lex.correct("工作中对建筑工地有哪些规定") == "工作中对建筑工地有哪些规定"
    assert lex.correct("医报断了能包销吗") == "医保断了能报销吗"
    # …while a word in at least TARGET_SHARE of the chunks is a target even outside the dictionary.
    assert Lexicon({"市委": 300}, n_chunks=10_000).correct("淮安市为台资企业") == "淮安市委台资企业"


def test_a_typo_of_a_compound_is_read_as_the_compound_even_when_the_short_typo_is_a_corpus_word():
    # A FAQ list about car insurance uses 报险 ("report a claim") itself, so 报险 alone is never corrected;
    # the compound 医疗保险 (counted as 医保, the form the tokenizer folds it to) still reads 医疗报险.
    lex = Lexicon({"医保": 300, "保险": 5000, "报险": 12, "怎么": 900}, n_chunks=7_500)
    assert lex.correct("自己交医疗报险怎么交") == "自己交医疗保险怎么交"
    assert lex.correct("车子报险,保险公司不派人处理怎么办") == "车子报险,保险公司不派人处理怎么办"


def test_two_character_folded_forms_are_not_targets():
    # 续缴 is written for 补缴, but 需缴 (must pay) sounds the same: only longer forms are corpus words.
    lex = Lexicon({"补缴": 900, "医保": 900}, n_chunks=1_000)
    assert lex.correct("灵活就业需缴多少钱") == "灵活就业需缴多少钱"
