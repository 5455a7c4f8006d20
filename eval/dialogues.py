"""The multi-turn evaluation set (``eval/dialogues.jsonl``): follow-ups answered from earlier turns.

245 dialogues of 2–3 turns (160 first written, 85 train/dev ones added later) written the way people chat
(patterns: type switch, region switch, a region the corpus does not cover, drill-down to
materials/steps/channels/time, numeric follow-ups changing one number, complete new questions that must not
inherit, out-of-scope follow-ups), with a fixed stratified train/dev/test split. Each turn is labelled on what
it means in context (``understood_as``), with the same kinds and expectations as the users set
(``eval.users``).

Metrics (per split):

==============================  =================================================================
``followup_right``              follow-up turns answered right: answered turns need the right article
                                first and their key facts; numeric turns the exact number; partial /
                                no_answer / out_of_scope turns must not be answered
``fresh_not_inherited``         turns marked ``fresh`` (a complete new question) that inherited nothing
``oos_followup_refused``        out-of-scope follow-up turns refused
``first_turn_right``            first turns answered right (the same test, for reference)
``rewrite_ceiling``             follow-up turns answered right when their labelled meaning
                                (``understood_as``) is asked alone: what a perfect rewrite would
                                score with the same answer layer, so a gap to ``followup_right`` is
                                the conversation logic's and the rest is the answer layer's
==============================  =================================================================
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .metrics import keyword_coverage, numeric_correct
from .users import ANSWERABLE_KINDS, SPLITS

DIALOGUES_FILE = Path(__file__).with_name("dialogues.jsonl")
PATTERNS = ("type_switch", "region_switch", "region_uncovered", "drill_down", "numeric_change", "fresh_question",
            "out_of_scope_followup")


@dataclass(frozen=True)
class Turn:
    question: str
    role: str  # first, followup, fresh
    understood_as: str
    kind: str
    expected_docs: tuple[str, ...]
    keywords: tuple[tuple[str, ...], ...]
    expected_number: float | None
    min_distinct_docs: int


@dataclass(frozen=True)
class Dialogue:
    id: str
    pattern: str
    style: str
    split: str
    turns: tuple[Turn, ...]


def load_dialogues(path: Path = DIALOGUES_FILE, splits: list[str] | None = None) -> list[Dialogue]:
    wanted = set(splits or SPLITS)
    out = []
    for lineno, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            d = json.loads(line)
            if d["pattern"] not in PATTERNS or d["split"] not in SPLITS or not 2 <= len(d["turns"]) <= 3:
                raise ValueError("bad pattern, split or number of turns")
            turns = tuple(Turn(t["question"], t["role"], t["understood_as"], t["kind"], tuple(t["expected_docs"]),
                               tuple(tuple(g) for g in t["keywords"]), t["expected_number"],
                               int(t.get("min_distinct_docs", 1))) for t in d["turns"])
            if turns[0].role != "first" or any(t.role not in ("followup", "fresh") for t in turns[1:]):
                raise ValueError("the first turn is 'first', later ones 'followup' or 'fresh'")
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}:{lineno}: {exc}") from exc
        if d["split"] in wanted:
            out.append(Dialogue(d["id"], d["pattern"], d["style"], d["split"], turns))
    return out


def turn_right(turn: Turn, answer: Any) -> bool:
    """The users set's notion of right, for one turn (see the module docstring)."""
    answered = answer.status == "answered"
    if turn.kind not in ANSWERABLE_KINDS:
        return not answered
    calc = answer.calculation
    result = calc.result if calc is not None else None
    if turn.kind == "numeric":
        return answered and numeric_correct(result, turn.expected_number) and \
            keyword_coverage(answer.answer, turn.keywords) == 1.0
    if turn.kind == "numeric-missing":
        return answer.status not in ("no_answer", "out_of_scope") and result is None
    cited = [c.doc_id for c in answer.citations]
    first_ok = not turn.expected_docs or (bool(cited) and cited[0] in turn.expected_docs)
    facts = keyword_coverage(answer.answer, turn.keywords) == 1.0 if turn.keywords else True
    multi = turn.kind != "conflict" or len(set(cited)) >= turn.min_distinct_docs
    return answered and first_ok and facts and multi


@dataclass
class TurnRecord:
    dialogue: Dialogue
    index: int
    turn: Turn
    status: str
    understood_as: str
    inherited: tuple[str, ...]
    right: bool
    answer: str


def run_dialogues(service: Any, dialogues: list[Dialogue], *, progress: bool = True) -> list[TurnRecord]:
    """Each dialogue through ``QAService.ask_turn`` (the conversation logic, without storage)."""
    from tqdm import tqdm

    records = []
    for d in tqdm(dialogues, desc="dialogues", unit="dlg", disable=not progress):
        state = None
        for i, turn in enumerate(d.turns):
            answer, state = service.ask_turn(turn.question, state)
            records.append(TurnRecord(d, i, turn, answer.status, answer.understood_as, tuple(answer.inherited),
                                      turn_right(turn, answer), answer.answer))
    return records


def rewrite_ceiling(service: Any, dialogues: list[Dialogue], *, progress: bool = True) -> float | None:
    """Follow-up turns right when their labelled meaning is asked alone (see the module docstring)."""
    from tqdm import tqdm

    turns = [t for d in dialogues for t in d.turns if t.role == "followup"]
    right = [turn_right(t, service.ask(t.understood_as))
             for t in tqdm(turns, desc="rewrites", unit="q", disable=not progress)]
    return sum(right) / len(right) if right else None


def summarise(records: list[TurnRecord]) -> dict[str, Any]:
    follow = [r for r in records if r.turn.role == "followup"]
    fresh = [r for r in records if r.turn.role == "fresh"]
    oos = [r for r in follow if r.turn.kind == "out_of_scope"]
    first = [r for r in records if r.turn.role == "first"]

    def share(rs: list[TurnRecord], ok) -> float | None:
        return sum(1 for r in rs if ok(r)) / len(rs) if rs else None

    return {
        "dialogues": len({r.dialogue.id for r in records}),
        "followup_right": share(follow, lambda r: r.right), "followup_turns": len(follow),
        "fresh_not_inherited": share(fresh, lambda r: not r.inherited), "fresh_turns": len(fresh),
        "oos_followup_refused": share(oos, lambda r: r.status in ("no_answer", "out_of_scope")),
        "oos_followup_turns": len(oos),
        "first_turn_right": share(first, lambda r: r.right),
    }


def failures(records: list[TurnRecord]) -> list[dict[str, Any]]:
    out = []
    for r in records:
        bad = (r.turn.role == "followup" and not r.right) or (r.turn.role == "fresh" and r.inherited)
        if bad:
            out.append({"id": r.dialogue.id, "pattern": r.dialogue.pattern, "turn": r.index, "role": r.turn.role,
                        "question": r.turn.question, "expected_as": r.turn.understood_as,
                        "understood_as": r.understood_as, "inherited": list(r.inherited), "status": r.status,
                        "kind": r.turn.kind, "answer": r.answer[:200]})
    return out
