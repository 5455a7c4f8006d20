"""Mask personal numbers in free text before it is logged or stored.

Users paste their own numbers into questions ("我身份证号是…", "手机138…", "社保卡号…").
Nothing of the question is kept unless ``store_questions`` is on, and then only
through :func:`mask_pii`, which replaces

* 身份证号: 18 digits, or 17 digits followed by X/x           → ``[身份证号]``
* 手机号:   11 digits ``1[3-9]xxxxxxxxx`` (also ``138 1234 5678``, ``138-1234-5678``) → ``[手机号]``
* 银行卡号 / 社保卡号 and other long numbers: 12–19 digits, optionally grouped
  by single spaces or hyphens (``6222 0200 1234 5678``)           → ``[卡号]``

Full-width digits (１３８…) count as digits. Shorter numbers (amounts, years,
months, dates such as 20250517) are left alone. Over-masking a long number that
is not personal is accepted; under-masking is not.

Used by the API's log masking (:mod:`api.privacy` re-exports these names) and by the conversation
store (:mod:`qa.conversations`), which masks every text before writing it.
"""

from __future__ import annotations

import re

__all__ = ["CARD_MASK", "ID_MASK", "PHONE_MASK", "mask_pii"]

ID_MASK = "[身份证号]"
PHONE_MASK = "[手机号]"
CARD_MASK = "[卡号]"

# A run of digits, where single spaces or hyphens may separate groups, optionally
# ending in X (the 身份证 check character). Not preceded or followed by a digit.
_NUMBER = re.compile(r"(?<!\d)\d(?:[ \-\u3000]?\d)*(?:[Xx](?![A-Za-z]))?(?!\d)")
_PHONE = re.compile(r"1[3-9]\d{9}")


_SEP = re.compile(r"([ \-\u3000])")
_SHORT_GROUP = 6  # groups of at most this many digits are read together ("6222 0200 1234 5678")


def _ascii_digits(digits: str) -> str:
    return "".join(str(int(ch)) for ch in digits)


def _classify(digits: str, x: bool) -> str | None:
    """The placeholder for one number (its digits, and whether an X follows), or None to keep it."""
    n = len(digits)
    if x:
        return ID_MASK if n == 17 else None
    if n == 18:
        return ID_MASK
    if n == 11:
        return PHONE_MASK if _PHONE.fullmatch(_ascii_digits(digits)) else None
    if n >= 12:
        return CARD_MASK
    return None


def _mask_number(match: re.Match[str]) -> str:
    token = match.group(0)
    x = token[-1] in "Xx"
    body = token[:-1] if x else token
    parts = _SEP.split(body)  # digits, sep, digits, sep, …
    # Segments: a long group stands alone; consecutive short groups form one number.
    segments: list[list[str]] = []
    for i in range(0, len(parts), 2):
        group = parts[i]
        sep = parts[i - 1] if i else ""
        short = len(group) <= _SHORT_GROUP
        if segments and short and segments[-1][-1] is not None and len(segments[-1][-1]) <= _SHORT_GROUP:
            segments[-1].extend([sep, group])
        else:
            if sep:
                segments.append([sep, None])  # a separator between two segments, kept as written
            segments.append([group])
    out: list[str] = []
    last_number = max(i for i, seg in enumerate(segments) if seg[-1] is not None)
    for i, seg in enumerate(segments):
        if seg[-1] is None:
            out.append(seg[0])
            continue
        text = "".join(seg)
        digits = "".join(seg[::2])
        has_x = x and i == last_number
        mask = _classify(digits, has_x)
        if mask is None:
            out.append(text + (token[-1] if has_x else ""))
        else:
            out.append(mask)
    return "".join(out)


def mask_pii(text: str) -> str:
    """Return ``text`` with 身份证号, 手机号 and bank/社保卡 numbers replaced by placeholders."""
    if not text:
        return text
    return _NUMBER.sub(_mask_number, text)
