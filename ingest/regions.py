"""Chinese provinces, cities and counties named in a text, from jionlp's gazetteer.

The gazetteer is ``jionlp.china_location_loader()`` (34 provinces, ~350 cities, ~3,000 counties with
their usual short forms); it is read once, on first use, into one compiled regular expression (a
character trie, so matching does not slow down with the number of names) plus a dictionary from each
written form to the places it can denote.

What counts as a mention, decided so that ordinary words do not become places:

- Provinces and cities match by full name (甘肃省, 深圳市, 恩施土家族苗族自治州) and short form (甘肃, 深圳,
  恩施, 恩施州). Beijing, Tianjin, Shanghai, Chongqing, Hong Kong and Macau are province-level: 北京 and
  北京市 are one place, level "province".
- Counties and districts match by full name (朝阳区, 城关区, 昆山市) when what precedes the suffix has at
  least two characters; one-character stems (城区, 东区, 郊区, 矿区, 新县, 高县, 理县 …) are words or word
  parts ("提高县级", "办理县") and match only right after their own city or province ("阳泉城区").
- A county's short form (朝阳, 浦东, 南山, 城关, 和平, 东方 …) is far too often an ordinary word or a
  different place, so it too matches only right after its own city or province: "北京朝阳", "深圳南山".
  The same holds for the few city short forms that are common words (``ORDINARY_WORDS``: 大同, 开封,
  日照, 中山 …; "山西大同", "大同市" still match) and for the generic short forms of development zones
  and management areas (高新区, 经开区, 新区, 示范区 …: "成都高新区" matches, "新区" alone does not).
- jionlp's placeholder nodes (市直辖行政区划, 省直辖行政区划) are not places.
- A short form followed by 路/街/大道/大街/巷/胡同 is a street (广州的北京路), not the place. A suffix that
  belongs to the next word (西安区域, 天津市场, 广东省级) is given back: 西安, 天津, 广东.
- "中国", "全国", "国家" are not regions here; a text naming no region is national, and the caller decides
  what that means (``ingest.metadata`` writes "全国").

Adjacent names that form a chain are one mention: "甘肃嘉峪关", "北京市朝阳区", "吉林长春" each give one
Region, the most specific place, whose ``name`` is the whole written chain. A name that denotes several
places (朝阳区 in Beijing and in Changchun, 鼓楼区 in four cities) resolves to the one inside a
place named earlier in the text, else the higher level, else the one in a provincial capital or
municipality (朝阳区 → Beijing, 宝山区 → Shanghai), else the lower administrative code.
"""

from __future__ import annotations

import contextlib
import io
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Level = Literal["province", "city", "county"]

# City (and province-administered county) short forms that are ordinary words or parts of common
# phrases: 大同小异, 开封 (to unseal), 白银 (silver), 幸福安康, 来宾 (guests), 阿里巴巴, 山南海北, 长治久安,
# 孙中山/中山装, 三明治, 日照时间, 夸下海口, 大理石, 朝阳产业, 中卫 (football), 玉树临风, 普洱茶, 黑河 (a river),
# 东方, 天门, 新星, 双河, 白沙; and forms that straddle common word pairs, found by running find_regions over
# the 600 government notices and 3,769 Q&A pairs in eval/data: 确保定点/投保定期 (保定), 规定安排 (定安),
# 平台中 (台中), 平安顺利 (安顺), 田间 (和田), 长白山 (白山). They still match as full names (大同市, 保定市)
# or right after their province (山西大同, 河北保定).
ORDINARY_WORDS = frozenset(
    "大同 开封 白银 安康 来宾 阿里 山南 长治 中山 三明 日照 海口 大理 朝阳 中卫 玉树 普洱 黑河 怒江 "
    "东方 天门 新星 双河 白沙 保定 定安 台中 安顺 和田 白山".split()
)

# Full names of development zones, industrial parks and management areas: their short forms are generic.
_ZONE = re.compile(r"开发区|产业园|工业园|园区|示范区|管理区|管委会|委员会|聚集区|群岛|岛礁|新城$")
_PLACEHOLDER = "直辖"
_COUNTY_SUFFIX = "区县市旗"
_ADMIN_SUFFIX = "省市区县州旗盟"
# After a short form: a street name, not the place (北京路); 海淀区街道 is a subdistrict, kept.
_STREET = re.compile(r"路|街|大道|大街|巷|胡同")
# A final 省/市/区/县 that belongs to the next word: 区域, 区划, 县级, 市场, 省级, 省份 …
_SPLIT_NEXT = re.compile(r"[省市区县州][域划级份]|市场|市值|区别|区间|省内|省外")

_LEVEL_RANK = {"province": 0, "city": 1, "county": 2}


@dataclass(frozen=True)
class Place:
    """One administrative unit of the gazetteer."""

    full_name: str
    province: str
    city: str | None
    county: str | None
    level: Level
    code: str

    @property
    def path(self) -> tuple[str, ...]:
        parts = [self.province]
        if self.city and self.city != self.province:
            parts.append(self.city)
        if self.county:
            parts.append(self.county)
        return tuple(parts)

    def within(self, other: Place) -> bool:
        """True if self is other or lies inside it."""
        p, o = self.path, other.path
        return p[: len(o)] == o


@dataclass(frozen=True)
class Region:
    """A place named in a text: ``name`` as written, the rest from the gazetteer."""

    name: str
    full_name: str
    province: str
    city: str | None
    county: str | None
    level: Level
    code: str = ""

    @property
    def place(self) -> Place:
        return Place(self.full_name, self.province, self.city, self.county, self.level, self.code)

    @property
    def path(self) -> tuple[str, ...]:
        return self.place.path

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class _Entry:
    place: Place
    free: bool  # matches anywhere; otherwise only right after one of its ancestors


class Gazetteer:
    """Written forms → places, and one trie regex over all written forms."""

    def __init__(self, tree: dict) -> None:
        index: dict[str, list[_Entry]] = {}

        def add(surface: str, place: Place, free: bool) -> None:
            if len(surface) < 2:
                return
            entries = index.setdefault(surface, [])
            for i, e in enumerate(entries):
                if e.place == place:
                    if free and not e.free:
                        entries[i] = _Entry(place, True)
                    return
            entries.append(_Entry(place, free))

        for prov_name, prov in tree.items():
            if prov_name.startswith("_"):
                continue
            prov_alias = _aliases(prov)
            pplace = Place(prov_name, prov_name, None, None, "province", prov.get("_admin_code", ""))
            add(prov_name, pplace, True)
            for a in prov_alias:
                add(a, pplace, True)  # 吉林 alone is the province (the higher level), 吉林市 the city
            for city_name, city in prov.items():
                if city_name.startswith("_"):
                    continue
                city_alias = _aliases(city)
                municipal = city_name == prov_name or city_name in prov_alias  # 北京市, 香港
                by_province = _PLACEHOLDER in city_name  # 省直辖行政区划: counties under the province itself
                if municipal:
                    parent_city: str | None = prov_name
                elif by_province:
                    parent_city = None
                else:
                    parent_city = city_name
                    cplace = Place(city_name, prov_name, city_name, None, "city", city.get("_admin_code", ""))
                    add(city_name, cplace, True)
                    for a in city_alias:
                        add(a, cplace, a not in ORDINARY_WORDS)
                        if city_name.endswith("自治州"):
                            add(a + "州", cplace, True)  # 恩施州, 延边州
                for county_name, county in city.items():
                    if county_name.startswith("_") or _PLACEHOLDER in county_name or not isinstance(county, dict):
                        continue
                    xplace = Place(county_name, prov_name, parent_city, county_name, "county",
                                   county.get("_admin_code", ""))
                    zone = bool(_ZONE.search(county_name))
                    stem = county_name[:-1] if county_name[-1] in _COUNTY_SUFFIX else county_name
                    add(county_name, xplace, zone or len(stem) >= 2)
                    for a in _aliases(county):
                        # Units directly under a province (仙桃, 五指山, 石河子) are named like cities.
                        free = by_province and not zone and a not in ORDINARY_WORDS
                        add(a, xplace, free)
        self.index = index
        self.pattern = re.compile(_trie_pattern(index))

    def candidates(self, surface: str) -> list[_Entry]:
        return self.index.get(surface, [])


def _aliases(node: dict) -> list[str]:
    alias = node.get("_alias") or []
    return [alias] if isinstance(alias, str) else list(alias)


def _trie_pattern(words: Iterable[str], group: int = 100) -> str:
    """One regex for a set of literal words: longest match at each position, shared prefixes merged.

    The ~950 first characters are split into groups, each guarded by a character-class lookahead, so
    that a position is tried against one group's branches instead of all of them (3.5× faster than a
    plain trie, 10× faster than an alternation of the words sorted by length).
    """
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if "" in node:
            return ("(?:" + body + ")?") if len(alts) == 1 else body + "?"
        return body

    firsts = sorted(trie)
    parts = []
    for i in range(0, len(firsts), group):
        chars = firsts[i : i + group]
        guard = "(?=[" + "".join(re.escape(c) for c in chars) + "])"
        parts.append(guard + build({c: trie[c] for c in chars}))
    return "(?:" + "|".join(parts) + ")"


_lock = threading.Lock()
_gazetteer: Gazetteer | None = None


def gazetteer() -> Gazetteer:
    """The gazetteer, built on first use (about 0.7 s, most of it importing jionlp; +45 MB RSS)."""
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                # jionlp prints a banner on import; keep stdout clean for CLI users.
                with contextlib.redirect_stdout(io.StringIO()):
                    import jionlp

                    tree = jionlp.china_location_loader()
                _gazetteer = Gazetteer(tree)
    return _gazetteer


def _best(places: list[Place], context: list[Place]) -> Place:
    """Inside (or equal to) a place named before; else the higher level; else in a capital; else lower code."""

    def key(p: Place) -> tuple[int, int, int, str]:
        in_context = any(p.within(c) for c in context)
        # Administrative codes XX01XX are the provincial capital (or the municipality's own districts).
        in_capital = p.level == "county" and p.code[2:4] == "01"
        return (0 if in_context else 1, _LEVEL_RANK[p.level], 0 if in_capital else 1, p.code)

    return min(places, key=key)


@dataclass(frozen=True)
class Mention:
    """One place named at text[start:end]."""

    start: int
    end: int
    region: Region


def region_mentions(text: str) -> tuple[Mention, ...]:
    """Every mention of a place in ``text``, in order, repeats included (see ``find_regions``)."""
    if not text:
        return ()
    gz = gazetteer()
    found: list[list] = []  # [start, end, place]
    pos = 0
    n = len(text)
    while pos < n:
        m = gz.pattern.search(text, pos)
        if not m:
            break
        start = m.start()
        chosen: tuple[int, Place, bool] | None = None
        surface = m.group()
        # The match, then shorter written forms at the same place (西安区域 → 西安).
        for length in range(len(surface), 1, -1):
            form = surface[:length]
            entries = gz.candidates(form)
            if not entries:
                continue
            end = start + length
            street = _STREET.match(text, end) and form[-1] not in _ADMIN_SUFFIX  # 海淀区街道 is no street
            if street or _SPLIT_NEXT.match(text, end - 1):
                continue
            prev = found[-1] if found and found[-1][1] == start else None
            place = None
            chained = False
            if prev is not None:
                inside = [e.place for e in entries if e.place.within(prev[2]) and e.place != prev[2]]
                if inside:
                    place, chained = _best(inside, [prev[2]]), True
            if place is None:
                free = [e.place for e in entries if e.free]
                if free:
                    place = _best(free, [f[2] for f in found])
            if place is not None:
                chosen = (end, place, chained)
                break
        if chosen is None:
            pos = start + 1
            continue
        end, place, chained = chosen
        if chained:
            found[-1][1], found[-1][2] = end, place
        else:
            found.append([start, end, place])
        pos = end
    return tuple(
        Mention(start, end, Region(text[start:end], p.full_name, p.province, p.city, p.county, p.level, p.code))
        for start, end, p in found
    )


def find_regions(text: str) -> tuple[Region, ...]:
    """Places named in ``text``, in order of first appearance, each place once (named as first written).

    Measured on this project's 2-core machine, gazetteer loaded: 0.01 ms for a 20-character question,
    0.5–3 ms for the five raw corpus pages (2–7k characters), 0.24 µs per character over the 2.2 million
    characters of eval/data (600 government notices, 3,769 Q&A pairs). Loading the gazetteer once
    takes about 0.7 s (most of it importing jionlp).
    """
    regions: list[Region] = []
    seen: set[Place] = set()
    for mention in region_mentions(text):
        place = mention.region.place
        if place not in seen:
            seen.add(place)
            regions.append(mention.region)
    return tuple(regions)


def resolve_region(name: Region | str) -> Region | None:
    """The place a region name stands for (its most specific place), or None if it names none."""
    if isinstance(name, Region):
        return name
    places = _places(name)
    if not places:
        return None
    p = max(places, key=lambda q: len(q.path)) if len(places) > 1 and _is_chain(places) else places[0]
    return Region(name.strip(), p.full_name, p.province, p.city, p.county, p.level, p.code)


def _is_chain(places: list[Place]) -> bool:
    deepest = max(places, key=lambda q: len(q.path))
    return all(deepest.within(p) for p in places)


def _places(name: Region | str) -> list[Place]:
    if isinstance(name, Region):
        return [name.place]
    name = name.strip()
    entries = gazetteer().candidates(name)
    if entries:
        free = [e.place for e in entries if e.free]
        # An exact written form: the place it means alone, else every place it can be (朝阳, 浦东).
        return [_best(free, [])] if free else [e.place for e in entries]
    return [r.place for r in find_regions(name)]


def region_matches(asked: Region | str, regions: Iterable[str]) -> bool:
    """Does a question about ``asked`` concern a document about ``regions``?

    True when one of the document's places is the asked place, contains it (嘉峪关 ↔ 甘肃, 甘肃嘉峪关),
    or lies inside it (甘肃 ↔ 甘肃嘉峪关). Different places never match (兰州 ↔ 嘉峪关). "全国" and names
    that are not places match nothing: whether a national document suits a local question is the
    caller's decision. A name outside the gazetteer matches only the identical name.
    """
    asked_places = _places(asked)
    asked_text = asked.name if isinstance(asked, Region) else asked.strip()
    for doc_region in regions:
        if not isinstance(doc_region, str) or not doc_region.strip() or doc_region.strip() == "全国":
            continue
        doc_places = _places(doc_region)
        if not doc_places or not asked_places:
            if doc_region.strip() == asked_text:
                return True
            continue
        if any(a.within(d) or d.within(a) for a in asked_places for d in doc_places):
            return True
    return False
