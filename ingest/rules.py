"""The calculator's article-specific rules, as data: ``corpus/rules.toml`` → ``RuleBook``.

A hotline that adopts the service has its own city's notices. Waiting periods, the 补充缴费期,
premiums, late-fee rates and required years are therefore not Python constants but entries of
``corpus/rules.toml``, beside the articles they come from. The calculator (``qa.calculator``) keeps
the arithmetic and the generic readings of the wording (以内/超过, 次月, 第三个自然月, 满N个月后 …);
every figure and every passage it cites comes from a ``Rule``.

One ``[[rule]]`` table per rule (see ``corpus/rules.toml`` for the shipped ones):

``id``
    unique name, used in messages.
``doc_id``
    the article the rule comes from (a document of the corpus).
``kind``
    the calculation it feeds (``KIND_NAMES``). ``arrears_total`` also reads ``late_fee`` rules;
    ``benefit_dates`` and ``resident_waiting_period`` read each other's (one waiting rule feeds both).
``regions``
    where it applies: ``["全国"]`` for a general rule, else places (甘肃嘉峪关, 兰州, 甘肃 …).
``insurance_type`` (optional)
    ``"职工"`` or ``"居民"``; absent: both.
``condition``
    when it applies, in readable Chinese.
``when`` (optional table)
    the machine-readable condition: ``interruption_months_min``/``_max`` and
    ``cumulative_months_min``/``_max`` (whole months, both ends included), ``paid_from``/``paid_to``
    (the payment date lies in this period), ``valid_from``/``valid_to`` (in force for payments in this
    period), ``year`` (the contribution year a figure is for), ``supplementary`` (paid in the
    补充缴费期), ``employer_caused`` (the break was the employer's doing), ``other_than_default``
    (cited when the calculation uses a value of its own for these parameters, e.g. the asker's
    city's required years, instead of the default rule's).
``effect`` (table)
    the parameters it sets (``EFFECTS`` lists them per kind with their types): e.g. ``daily_rate``,
    ``rate_low``/``rate_high``, ``personal``/``subsidy``, ``required_years``/``required_actual_years``,
    ``base_months``/``per_year_months``; for benefit dates one of ``wait_months`` (benefits from the
    payment month + N, with ``wait_months_to`` for a range), ``natural_month`` (the Nth natural month
    counting the payment month), ``paid_months`` (after N months of continuous payment),
    ``base_months``+``per_year_months`` (N months plus M per further year without cover) or
    ``wait_days`` (payment date + N days, not before ``earliest``); ``supplementary = true`` (a payment
    in ``when.paid_from``–``paid_to`` is one in the 补充缴费期); ``stops_after_months`` /
    ``stops_after_cumulative_months`` (when benefits stop). May be empty for a passage the formula
    rests on without a figure.
``quote``
    a passage that occurs verbatim in the document's cleaned text (``verify`` checks it).
``summary`` (optional)
    the rule in one line, as listed with benefit dates (default: ``condition``).
``example`` (optional, false)
    the figures illustrate (a worked example, "例如…"); they are cited, never used as values.
``default`` (optional, false)
    a region-specific rule that is the documented default elsewhere: used for questions naming no
    region, and where the asked region has no rule of its own, and then reported as borrowed.
    Without it, a region-specific rule never applies outside its regions.
``cite_when_asking`` (optional, false)
    quoted as the formula's basis when the asker still has to give inputs.
``examples`` (optional table)
    effect key → label: the value shown, labelled, to an asker who did not give it.

Selection (``RuleBook.select``): for the asked regions, a rule for an asked region (or for a place
containing it, e.g. a 甘肃 rule for 嘉峪关) is *local*; the more specific place wins. Local rules
displace general (``["全国"]``) ones setting the same parameter for the same insurance type, and both
displace other regions' ``default`` rules; region-specific rules without ``default`` are left out.
With no region asked, the general rules and the ``default`` rules apply. Among rules of equal
standing the first in the file wins. A calculation that lists every article's rule (benefit dates)
keeps general rules and defaults beside each other, and a local rule displaces the others, for its
insurance type, only where it applies to the calculation's inputs (the calculator decides that).

Pure except ``load_rules``/``default_rules``, which read a file.
"""

from __future__ import annotations

import datetime as _dt
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

__all__ = [
    "EFFECTS",
    "GENERAL",
    "KIND_NAMES",
    "WHEN",
    "Rule",
    "RuleBook",
    "Selection",
    "SourceRef",
    "default_rules",
    "load_rules",
    "region_contains",
    "rule_pairs",
    "verify",
]

PROJECT = Path(__file__).resolve().parent.parent
RULES_FILE = PROJECT / "corpus" / "rules.toml"
GENERAL = "全国"
INSURANCE_TYPES = ("职工", "居民")

KIND_NAMES = (
    "monthly_contribution",
    "back_payment",
    "late_fee",
    "arrears_total",
    "resident_premium",
    "resident_waiting_period",
    "years_to_retirement",
    "benefit_dates",
)

# Value types of effect and condition fields.
MONEY, RATE, NUMBER, INT, DATE, BOOL, KEYS = "money", "rate", "number", "int", "date", "bool", "keys"

_LATE = {"daily_rate": RATE, "personal_fee": MONEY}
_WAIT = {"base_months": INT, "per_year_months": INT}
EFFECTS: dict[str, dict[str, str]] = {
    "monthly_contribution": {"base": MONEY, "rate": RATE, "monthly": MONEY},
    "back_payment": {"rate_low": RATE, "rate_high": RATE, "months": NUMBER, "wage": MONEY, "amount": MONEY},
    "late_fee": _LATE,
    "arrears_total": _LATE,
    "resident_premium": {"personal": MONEY, "subsidy": MONEY, "total": MONEY},
    "resident_waiting_period": _WAIT,
    "years_to_retirement": {"required_years": NUMBER, "required_actual_years": NUMBER},
    "benefit_dates": {
        "wait_months": INT, "wait_months_to": INT, "natural_month": INT, "paid_months": INT, **_WAIT,
        "wait_days": INT, "earliest": DATE, "supplementary": BOOL,
        "stops_after_months": INT, "stops_after_cumulative_months": INT,
    },
}  # fmt: skip
WHEN: dict[str, str] = {
    "interruption_months_min": INT,
    "interruption_months_max": INT,
    "cumulative_months_min": INT,
    "cumulative_months_max": INT,
    "paid_from": DATE,
    "paid_to": DATE,
    "valid_from": DATE,
    "valid_to": DATE,
    "year": INT,
    "supplementary": BOOL,
    "employer_caused": BOOL,
    "other_than_default": KEYS,
}
# The ways a benefit-dates rule places the start of benefits; a rule uses one of them.
START_FORMS = ("wait_months", "natural_month", "paid_months", "base_months", "wait_days")
# In a listing (benefit dates) every date-producing field fills the same place: "when benefits start".
_START_SLOT = frozenset((*START_FORMS, "wait_months_to", "per_year_months", "earliest"))

_REQUIRED = ("id", "doc_id", "kind", "regions", "condition", "quote")
_OPTIONAL = ("insurance_type", "when", "effect", "summary", "example", "default", "cite_when_asking", "examples")


@dataclass(frozen=True)
class SourceRef:
    """A passage a rule comes from: ``quote`` occurs verbatim in the cleaned text of ``doc_id``."""

    doc_id: str
    quote: str


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class Rule:
    """One rule of ``corpus/rules.toml`` (validated; see the module docstring for the fields)."""

    id: str
    doc_id: str
    kind: str
    regions: tuple[str, ...]
    condition: str
    quote: str
    effect: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    when: Mapping[str, Any] = field(default_factory=lambda: _frozen(None))
    insurance_type: str | None = None
    summary: str = ""
    example: bool = False
    default: bool = False
    cite_when_asking: bool = False
    examples: Mapping[str, str] = field(default_factory=lambda: _frozen(None))

    @property
    def ref(self) -> SourceRef:
        return SourceRef(self.doc_id, self.quote)

    @property
    def general(self) -> bool:
        return self.regions == (GENERAL,)

    @property
    def label(self) -> str:
        """How answers name the source article: ``文章002`` for ``002_fd26648b1f8121fa``."""
        return "文章" + (self.doc_id.split("_", 1)[0] or self.doc_id)

    @property
    def text(self) -> str:
        return self.summary or self.condition

    @property
    def types(self) -> frozenset[str]:
        return frozenset((self.insurance_type,)) if self.insurance_type else frozenset(INSURANCE_TYPES)

    def __hash__(self) -> int:  # the tables are read-only mappings; the id names a rule within a book
        return hash((self.id, self.doc_id, self.quote))

    def __repr__(self) -> str:
        return f"Rule({self.id!r}, {self.kind}, {'/'.join(self.regions)})"


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------


class _Bad(ValueError):
    pass


def _decimal(value: Any, text_parser: Any = None) -> Decimal:
    if isinstance(value, bool):
        raise _Bad("expected a number, got a boolean")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    if isinstance(value, str):
        parsed = text_parser(value) if text_parser else None
        if parsed is None:
            try:
                parsed = Decimal(value.strip())
            except InvalidOperation as exc:
                raise _Bad(f"cannot read {value!r} as a number") from exc
        return parsed
    raise _Bad(f"expected a number, got {type(value).__name__}")


def _value(kind: str, value: Any) -> Any:
    if kind in (MONEY, NUMBER):
        from qa.numparse import parse_amount

        got = _decimal(value, parse_amount if kind == MONEY else None)
        if not got.is_finite() or got < 0:
            raise _Bad("must be a number ≥ 0")
        return got
    if kind == RATE:
        from qa.numparse import parse_rate

        got = _decimal(value, parse_rate)
        if not got.is_finite() or not 0 < got <= 1:
            raise _Bad("a rate must lie in (0, 1] (write 4% as 0.04 or \"4%\")")
        return got
    if kind == INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad(f"expected a whole number, got {type(value).__name__}")
        if value < 0:
            raise _Bad("must not be negative")
        return value
    if kind == DATE:
        if isinstance(value, _dt.datetime):
            raise _Bad("expected a date (YYYY-MM-DD), got a date and time")
        if isinstance(value, _dt.date):
            return value
        if isinstance(value, str):
            try:
                return _dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                raise _Bad(f"cannot read {value!r} as a date (YYYY-MM-DD)") from exc
        raise _Bad(f"expected a date, got {type(value).__name__}")
    if kind == BOOL:
        if not isinstance(value, bool):
            raise _Bad(f"expected true or false, got {type(value).__name__}")
        return value
    raise AssertionError(kind)  # pragma: no cover


def _text(value: Any, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise _Bad(f"expected text, got {type(value).__name__}")
    if required and not value.strip():
        raise _Bad("must not be empty")
    return value


def _table(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _Bad(f"expected a table, got {type(value).__name__}")
    return value


def _rule(rec: Any, errors: list[str], where: str) -> Rule | None:
    """One record → a Rule, or None with its problems appended to ``errors``."""
    if not isinstance(rec, Mapping):
        errors.append(f"{where}: expected a table, got {type(rec).__name__}")
        return None
    name = rec.get("id")
    if isinstance(name, str) and name.strip():
        where = f"rule {name!r} ({where})"
    start = len(errors)

    def bad(fieldname: str, problem: str) -> None:
        errors.append(f"{where}: {fieldname}: {problem}")

    for key in rec:
        if key not in _REQUIRED and key not in _OPTIONAL:
            bad(str(key), f"unknown field; expected {', '.join(_REQUIRED + _OPTIONAL)}")
    for key in _REQUIRED:
        if key not in rec:
            bad(key, "missing")
    values: dict[str, Any] = {}
    for key in ("id", "doc_id", "condition", "quote"):
        if key in rec:
            try:
                values[key] = _text(rec[key]).strip() if key in ("id", "doc_id") else _text(rec[key])
            except _Bad as exc:
                bad(key, str(exc))
    if "summary" in rec:
        try:
            values["summary"] = _text(rec["summary"], required=False)
        except _Bad as exc:
            bad("summary", str(exc))
    kind = rec.get("kind")
    if "kind" in rec:
        if not isinstance(kind, str) or kind not in KIND_NAMES:
            bad("kind", f"unknown kind {kind!r}; expected one of {', '.join(KIND_NAMES)}")
            kind = None
        else:
            values["kind"] = kind
    if "regions" in rec:
        regions = rec["regions"]
        if isinstance(regions, str):
            regions = [regions]
        if not isinstance(regions, list) or not regions or not all(isinstance(r, str) and r.strip() for r in regions):
            bad("regions", "expected a non-empty list of place names (or [\"全国\"])")
        elif GENERAL in regions and len(regions) > 1:
            bad("regions", "\"全国\" (a general rule) cannot be combined with places")
        else:
            values["regions"] = tuple(r.strip() for r in regions)
    if rec.get("insurance_type") is not None:
        if rec["insurance_type"] not in INSURANCE_TYPES:
            bad("insurance_type", f"expected one of {', '.join(INSURANCE_TYPES)}, got {rec['insurance_type']!r}")
        else:
            values["insurance_type"] = rec["insurance_type"]
    for key in ("example", "default", "cite_when_asking"):
        if key in rec:
            if isinstance(rec[key], bool):
                values[key] = rec[key]
            else:
                bad(key, f"expected true or false, got {type(rec[key]).__name__}")
    if values.get("default") and values.get("regions") == (GENERAL,):
        bad("default", "only a region-specific rule can be another region's default; a 全国 rule applies anywhere")

    effect: dict[str, Any] = {}
    bad_effects: set[str] = set()
    if "effect" in rec:
        try:
            table = _table(rec["effect"])
        except _Bad as exc:
            bad("effect", str(exc))
            table = {}
        allowed = EFFECTS.get(kind or "", {})
        for key, raw in table.items():
            if kind is None:
                break
            if key not in allowed:
                bad(f"effect.{key}", f"not a parameter of {kind}; expected one of {', '.join(allowed)}")
                continue
            try:
                effect[key] = _value(allowed[key], raw)
            except _Bad as exc:
                bad_effects.add(key)
                bad(f"effect.{key}", str(exc))
    when: dict[str, Any] = {}
    if "when" in rec:
        try:
            table = _table(rec["when"])
        except _Bad as exc:
            bad("when", str(exc))
            table = {}
        for key, raw in table.items():
            if key not in WHEN:
                bad(f"when.{key}", f"unknown condition; expected one of {', '.join(WHEN)}")
                continue
            if WHEN[key] == KEYS:
                allowed = EFFECTS.get(kind or "", {})
                if not isinstance(raw, list) or not raw or not all(isinstance(k, str) and k in allowed for k in raw):
                    bad(f"when.{key}", f"expected a list of parameters of {kind} ({', '.join(allowed)})")
                else:
                    when[key] = tuple(raw)
                continue
            try:
                when[key] = _value(WHEN[key], raw)
            except _Bad as exc:
                bad(f"when.{key}", str(exc))
    examples: dict[str, str] = {}
    if "examples" in rec:
        try:
            table = _table(rec["examples"])
        except _Bad as exc:
            bad("examples", str(exc))
            table = {}
        for key, label in table.items():
            if key not in effect:
                if key not in bad_effects:
                    bad(f"examples.{key}", "shows a value the rule's effect does not set")
            elif not isinstance(label, str) or not label.strip():
                bad(f"examples.{key}", "expected a non-empty label")
            else:
                examples[key] = label
    _check_consistency(kind, effect, when, bad)
    if len(errors) > start:
        return None
    return Rule(effect=_frozen(effect), when=_frozen(when), examples=_frozen(examples), **values)


def _check_consistency(kind: str | None, effect: dict[str, Any], when: dict[str, Any], bad: Any) -> None:
    for low, high in (("interruption_months_min", "interruption_months_max"),
                      ("cumulative_months_min", "cumulative_months_max"),
                      ("paid_from", "paid_to"), ("valid_from", "valid_to")):  # fmt: skip
        if low in when and high in when and when[low] > when[high]:
            bad(f"when.{low}", f"is after when.{high}")
    if kind == "back_payment" and "rate_low" in effect and "rate_high" in effect and effect["rate_low"] > effect[
        "rate_high"
    ]:
        bad("effect.rate_low", "is above effect.rate_high")
    if ("base_months" in effect) != ("per_year_months" in effect):
        bad("effect", "base_months and per_year_months go together (N months plus M per further year)")
    if kind != "benefit_dates":
        return
    forms = [k for k in START_FORMS if k in effect]
    if len(forms) > 1:
        bad("effect", f"one way of placing the start of benefits per rule, got {', '.join(forms)}")
    wait_to = effect.get("wait_months_to")
    if wait_to is not None and ("wait_months" not in effect or wait_to < effect["wait_months"]):
        bad("effect.wait_months_to", "needs wait_months, and must not be below it")
    if "earliest" in effect and "wait_days" not in effect:
        bad("effect.earliest", "goes with wait_days")
    if effect.get("natural_month") == 0:
        bad("effect.natural_month", "counts from 1 (the payment month)")
    if effect.get("supplementary") is not None and not ("paid_from" in when and "paid_to" in when):
        bad("effect.supplementary", "needs when.paid_from and when.paid_to (the 补充缴费期 itself)")


# --------------------------------------------------------------------------------------
# Regions
# --------------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def _place(name: str) -> Any:
    from ingest.regions import resolve_region

    region = resolve_region(name)
    return region.place if region is not None else None


@lru_cache(maxsize=16384)
def region_contains(rule_region: str, asked: str) -> bool:
    """Is ``asked`` the place ``rule_region`` names, or inside it (甘肃 contains 嘉峪关 and 甘肃嘉峪关)?

    Names outside the gazetteer match only themselves; "全国" is not a place (general rules are
    handled by the selection).
    """
    rule_region, asked = rule_region.strip(), asked.strip()
    if not rule_region or not asked or GENERAL in (rule_region, asked):
        return False
    if rule_region == asked:
        return True
    a, r = _place(asked), _place(rule_region)
    return a is not None and r is not None and a.within(r)


def _depth(name: str) -> int:
    place = _place(name)
    return len(place.path) if place is not None else 1


# --------------------------------------------------------------------------------------
# The book and its selections
# --------------------------------------------------------------------------------------

LOCAL, GENERAL_TIER, BORROWED = "local", "general", "borrowed"


@dataclass(frozen=True)
class Selection:
    """The rules of some kinds that apply to the asked regions.

    ``rules`` in file order; ``tier`` says for each rule id whether it is the asked region's own
    (``local``), general, or another region's default (``borrowed``); ``rank`` orders them (the
    depth of a local rule's place, 0 general, −1 borrowed). ``types`` are the insurance types each
    rule still speaks for (a local rule for 居民 takes a general rule's 居民 part). In a listing the
    rules are all kept, and the calculation decides which give way to the local rules that apply to
    its inputs (``rule_pairs`` tells what a rule covers).
    """

    rules: tuple[Rule, ...]
    tier: Mapping[str, str]
    priority: tuple[Rule, ...]  # value lookup order: local (most specific first), general, borrowed
    remaining_types: Mapping[str, frozenset[str]]
    regions: tuple[str, ...] = ()
    ranks: Mapping[str, int] = field(default_factory=lambda: _frozen(None))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def rule_for(self, key: str, match: Any = None) -> Rule | None:
        """The rule whose value of ``key`` applies (examples never give values)."""
        for rule in self.priority:
            if key in rule.effect and (match is None or match(rule)):
                return rule
        return None

    def value(self, key: str, match: Any = None) -> Any:
        rule = self.rule_for(key, match)
        return rule.effect[key] if rule is not None else None

    def is_borrowed(self, rule: Rule) -> bool:
        return self.tier.get(rule.id) == BORROWED

    def is_local(self, rule: Rule) -> bool:
        return self.tier.get(rule.id) == LOCAL

    def rank(self, rule: Rule) -> int:
        return self.ranks.get(rule.id, 0)

    def types(self, rule: Rule) -> frozenset[str]:
        return self.remaining_types.get(rule.id, rule.types)


def rule_pairs(rule: Rule, listing: bool = False) -> set[tuple[str, str]]:
    """What a rule sets, per insurance type: (parameter, type) pairs; in a listing every way of dating
    the start of benefits is the one parameter "start"."""
    slots = {"start" if listing and key in _START_SLOT else key for key in rule.effect}
    return {(slot, t) for slot in slots for t in rule.types}


@dataclass(frozen=True)
class RuleBook:
    """The rules, in file order (which decides among rules of equal standing)."""

    rules: tuple[Rule, ...] = ()

    @classmethod
    def from_records(cls, records: Iterable[Mapping[str, Any]]) -> RuleBook:
        """Validate plain records (as read from TOML); raises ValueError naming each bad rule and field."""
        if isinstance(records, (str, bytes, Mapping)) or not isinstance(records, Iterable):
            raise ValueError("rules: expected a list of rule tables")
        errors: list[str] = []
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for i, rec in enumerate(records, 1):
            rule = _rule(rec, errors, f"entry {i}")
            if rule is None:
                continue
            if rule.id in seen:
                errors.append(f"rule {rule.id!r} (entry {i}): id: already used by entry {seen[rule.id]}")
                continue
            seen[rule.id] = i
            rules.append(rule)
        if errors:
            raise ValueError("\n".join(errors))
        return cls(tuple(rules))

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def get(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    @property
    def doc_ids(self) -> tuple[str, ...]:
        return tuple(sorted({r.doc_id for r in self.rules}))

    def of_kinds(self, kinds: Iterable[str]) -> tuple[Rule, ...]:
        wanted = set(kinds)
        return tuple(r for r in self.rules if r.kind in wanted)

    def select(self, kinds: str | Iterable[str], regions: Iterable[str] = (), *, listing: bool = False) -> Selection:
        """The rules of ``kinds`` for a question about ``regions`` (see the module docstring).

        ``listing``: the calculation lists every article's version (benefit dates) rather than
        taking one value per parameter. General rules then do not displace other regions' defaults,
        and local rules displace others only where they apply to the calculation's inputs, which the
        calculation decides (with ``rank`` and ``rule_pairs``); here every candidate is kept.
        """
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        asked = tuple(dict.fromkeys(r.strip() for r in regions if isinstance(r, str) and r.strip()))
        asked = tuple(r for r in asked if r != GENERAL)
        candidates = self.of_kinds(kinds)
        depth_of: dict[str, int] = {}
        for rule in candidates:
            if rule.general:
                continue
            depths = [_depth(reg) for reg in rule.regions for a in asked if region_contains(reg, a)]
            if depths:
                depth_of[rule.id] = max(depths)
        tier: dict[str, str] = {}
        kept: set[str] = set()
        covered: set[tuple[str, str]] = set()
        remaining: dict[str, frozenset[str]] = {}

        def consider(rule: Rule, against: set[tuple[str, str]]) -> bool:
            if rule.example or listing:
                return True
            pairs = rule_pairs(rule, listing)
            if not pairs:
                return True
            if pairs <= against:
                return False
            slots = {s for s, _ in pairs}
            left = frozenset(t for t in rule.types if any((s, t) not in against for s in slots))
            if left != rule.types:
                remaining[rule.id] = left
            return True

        for depth in sorted(set(depth_of.values()), reverse=True):
            tier_rules = [r for r in candidates if depth_of.get(r.id) == depth]
            for rule in tier_rules:
                if consider(rule, covered):
                    kept.add(rule.id)
                    tier[rule.id] = LOCAL
            covered |= {p for r in tier_rules if r.id in kept and not r.example for p in rule_pairs(r, listing)}
        local_covered = set(covered)
        general = [r for r in candidates if r.general]
        for rule in general:
            if consider(rule, covered):
                kept.add(rule.id)
                tier[rule.id] = GENERAL_TIER
        covered |= {p for r in general if r.id in kept and not r.example for p in rule_pairs(r, listing)}
        for rule in candidates:
            if rule.general or rule.id in depth_of or not rule.default:
                continue
            if consider(rule, local_covered if listing else covered):
                kept.add(rule.id)
                tier[rule.id] = BORROWED
        chosen = tuple(r for r in candidates if r.id in kept)
        local = sorted((r for r in chosen if tier[r.id] == LOCAL), key=lambda r: -depth_of[r.id])
        priority = tuple(
            r
            for r in (*local, *(r for r in chosen if tier[r.id] == GENERAL_TIER),
                      *(r for r in chosen if tier[r.id] == BORROWED))  # fmt: skip
            if not r.example
        )
        ranks = {r.id: depth_of[r.id] if tier[r.id] == LOCAL else (0 if tier[r.id] == GENERAL_TIER else -1)
                 for r in chosen}  # fmt: skip
        return Selection(chosen, _frozen(tier), priority, _frozen(remaining), asked, _frozen(ranks))


# --------------------------------------------------------------------------------------
# Loading and verifying
# --------------------------------------------------------------------------------------


def load_rules(path: Path | str) -> RuleBook:
    """Read a rules file (``[[rule]]`` tables); raises ValueError naming the file and each bad rule."""
    path = Path(path)
    try:
        # Decimals as written (0.10 stays 0.10): figures are money and rates, never binary floats.
        data = tomllib.loads(path.read_bytes().decode("utf-8-sig"), parse_float=Decimal)
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the rules file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not valid UTF-8 (byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: invalid TOML: {exc}") from exc
    unknown = [k for k in data if k != "rule"]
    if unknown:
        raise ValueError(f"{path}: unknown top-level key(s) {', '.join(map(repr, unknown))}; rules are [[rule]] tables")
    try:
        return RuleBook.from_records(data.get("rule", []))
    except ValueError as exc:
        raise ValueError(f"{path}:\n{exc}") from exc


@lru_cache(maxsize=1)
def default_rules() -> RuleBook:
    """``corpus/rules.toml`` of this project, read once (for callers that pass no rule book)."""
    return load_rules(RULES_FILE)


def verify(book: RuleBook, texts: Mapping[str, str]) -> tuple[RuleBook, list[str]]:
    """Keep the rules whose document is in ``texts`` (doc_id → cleaned text) and whose quote occurs in it.

    Returns the kept rules and one readable line per dropped rule.
    """
    kept: list[Rule] = []
    problems: list[str] = []
    for rule in book:
        text = texts.get(rule.doc_id)
        if not isinstance(text, str):
            problems.append(f"rule {rule.id!r}: document {rule.doc_id!r} is not in the corpus; rule not used")
        elif rule.quote not in text:
            shown = rule.quote if len(rule.quote) <= 40 else rule.quote[:40] + "…"
            problems.append(
                f"rule {rule.id!r}: quote “{shown}” does not occur in the cleaned text of {rule.doc_id!r}; "
                "rule not used"
            )
        else:
            kept.append(rule)
    return RuleBook(tuple(kept)), problems
