"""The multi-turn evaluation set (eval/dialogues.jsonl) and its metrics (eval/dialogues.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from eval.dialogues import DIALOGUES_FILE, PATTERNS, Turn, load_dialogues, summarise, turn_right
from eval.dialogues import TurnRecord as Rec

CORPUS_IDS = {p.stem for p in (Path(__file__).resolve().parent.parent / "corpus" / "raw").glob("*.txt")}


def test_the_set_has_every_pattern_in_every_split() -> None:
    dialogues = load_dialogues()
    assert len(dialogues) >= 120
    assert all(2 <= len(d.turns) <= 3 for d in dialogues)
    by_split = Counter(d.split for d in dialogues)
    assert by_split["test"] >= 60 and by_split["dev"] >= 30
    for split in ("train", "dev", "test"):
        assert {d.pattern for d in dialogues if d.split == split} == set(PATTERNS), split


def test_ids_are_unique_and_splits_disjoint() -> None:
    dialogues = load_dialogues()
    assert len({d.id for d in dialogues}) == len(dialogues)
    texts = {s: {tuple(t.question for t in d.turns) for d in dialogues if d.split == s}
             for s in ("train", "dev", "test")}
    assert not texts["train"] & texts["test"] and not texts["dev"] & texts["test"]


def test_turns_carry_their_expectations() -> None:
    for d in load_dialogues():
        for t in d.turns:
            assert t.understood_as.strip()
            assert set(t.expected_docs) <= CORPUS_IDS, d.id
            if t.kind in ("answerable", "conflict"):
                assert t.expected_docs and t.keywords, (d.id, t.question)
            if t.kind == "numeric":
                assert t.expected_number is not None, (d.id, t.question)
        if d.pattern == "out_of_scope_followup":
            assert any(t.kind == "out_of_scope" and t.role == "followup" for t in d.turns[1:])
        if d.pattern == "fresh_question":
            assert any(t.role == "fresh" for t in d.turns[1:])


@pytest.mark.parametrize("change, message", [
    (lambda d: d.update(pattern="chit_chat"), "bad pattern"),
    (lambda d: d.update(turns=d["turns"][:1]), "number of turns"),
    (lambda d: d["turns"][0].update(role="followup"), "first turn"),
    (lambda d: d["turns"][1].pop("understood_as"), "understood_as"),
])
def test_loader_names_the_line_of_a_bad_dialogue(tmp_path: Path, change, message: str) -> None:
    lines = DIALOGUES_FILE.read_text(encoding="utf-8").splitlines()
    bad = json.loads(lines[1])
    change(bad)
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join([lines[0], json.dumps(bad, ensure_ascii=False)]), encoding="utf-8")
    with pytest.raises(ValueError, match=rf"d.jsonl:2: .*{message}"):
        load_dialogues(path)


def _turn(kind: str = "answerable", role: str = "followup", **kw) -> Turn:
    base = dict(question="q", role=role, understood_as="u", kind=kind, expected_docs=("002_fd26648b1f8121fa",),
                keywords=(("90天",),), expected_number=None, min_distinct_docs=1)
    return Turn(**{**base, **kw})


def _answer(status: str = "answered", text: str = "等待期90天", docs=("002_fd26648b1f8121fa",), result=None):
    calc = SimpleNamespace(result=result) if result is not None else None
    return SimpleNamespace(status=status, answer=text, citations=[SimpleNamespace(doc_id=d) for d in docs],
                           calculation=calc)


def test_turn_right_needs_the_article_first_the_facts_and_the_number() -> None:
    assert turn_right(_turn(), _answer())
    assert not turn_right(_turn(), _answer(status="partial"))
    assert not turn_right(_turn(), _answer(docs=("001_695d386600e1a571", "002_fd26648b1f8121fa")))
    assert not turn_right(_turn(), _answer(text="等待期3个月"))
    num = _turn("numeric", expected_number=240.0, keywords=())
    assert turn_right(num, _answer(result=240.0)) and not turn_right(num, _answer(result=200.0))
    assert turn_right(_turn("out_of_scope", expected_docs=(), keywords=()), _answer(status="out_of_scope"))
    assert not turn_right(_turn("no_answer", expected_docs=(), keywords=()), _answer())


def test_summary_counts_follow_ups_fresh_turns_and_out_of_scope_refusals() -> None:
    (d,) = [x for x in load_dialogues(splits=["train"]) if x.pattern == "out_of_scope_followup"][:1]
    first = d.turns[0]
    oos = next(t for t in d.turns if t.kind == "out_of_scope")
    fresh = _turn(role="fresh")
    records = [Rec(d, 0, first, "answered", "", (), True, ""),
               Rec(d, 1, oos, "out_of_scope", "", (), True, ""),
               Rec(d, 1, _turn(), "answered", "", ("subject",), False, ""),
               Rec(d, 2, fresh, "answered", "", ("region",), True, ""),
               Rec(d, 2, fresh, "answered", "", (), True, "")]
    s = summarise(records)
    assert s["followup_turns"] == 2 and s["followup_right"] == 0.5
    assert s["fresh_turns"] == 2 and s["fresh_not_inherited"] == 0.5
    assert s["oos_followup_turns"] == 1 and s["oos_followup_refused"] == 1.0
    assert s["first_turn_right"] == 1.0
