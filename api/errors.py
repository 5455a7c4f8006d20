"""One error shape for every non-2xx answer, in Chinese and English.

```json
{
  "error": "invalid_request",
  "message": "问题不能为空 / question must not be empty",
  "message_zh": "问题不能为空",
  "message_en": "question must not be empty",
  "detail": [{"loc": ["body", "question"], "field": "question", "type": "string_too_short",
              "message_zh": "问题不能为空", "message_en": "question must not be empty"}]
}
```

``error`` is a stable machine code (``invalid_request``, ``not_found``, ``method_not_allowed``,
``payload_too_large``, ``service_unavailable``, ``internal_error``); ``message`` is what a page shows;
``detail`` lists every problem (empty for errors that are not about one field). The user's input is
never echoed back, and no error body carries a stack trace or a file path. The one exception is the
name of an unknown field or calculation parameter ("unknown field 'qustion'" explains a typo), and it
goes through :func:`safe_name`: personal numbers masked, only letters, digits, CJK and ``_ . - [ ]``,
at most 32 characters; many unknown fields are reported as one item with their count and at most
three names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, Field
from starlette.responses import Response

from qa.calculator import KINDS

from .privacy import mask_pii

FIELD_LABELS_ZH = {
    "question": "问题",
    "query": "检索词",
    "top_k": "top_k(返回条数)",
    "kind": "计算类型(kind)",
    "params": "计算参数(params)",
}


class ErrorItem(BaseModel):
    loc: list[str | int] = Field(default_factory=list)
    field: str | None = None
    type: str
    message_zh: str
    message_en: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str = Field(examples=["invalid_request"])
    message: str = Field(examples=["问题不能为空 / question must not be empty"])
    message_zh: str = Field(examples=["问题不能为空"])
    message_en: str = Field(examples=["question must not be empty"])
    detail: list[ErrorItem] = Field(default_factory=list)


class JSONBody(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        # "replace": an error message can never fail to encode (e.g. on a lone surrogate)
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "replace")


def error_response(
    status: int, error: str, zh: str, en: str, detail: Sequence[ErrorItem] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    body = ErrorBody(error=error, message=f"{zh} / {en}", message_zh=zh, message_en=en, detail=list(detail))
    return JSONBody(body.model_dump(), status_code=status, headers=headers)


# --- HTTP status errors ---------------------------------------------------------------------------------

STATUS_MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "请求无效", "bad request"),
    404: ("not_found", "未找到该地址或文档", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    413: ("payload_too_large", "请求体过大", "request body too large"),
    415: ("unsupported_media_type", "请求体必须是 JSON", "request body must be JSON"),
    500: ("internal_error", "服务器内部错误,请稍后再试", "internal server error, please try again later"),
    503: ("service_unavailable", "服务尚未就绪,请稍后再试", "service not ready, please try again later"),
}


def status_error(status: int, headers: dict[str, str] | None = None) -> Response:
    error, zh, en = STATUS_MESSAGES.get(status, ("http_error", "请求失败", "request failed"))
    return error_response(status, error, zh, en, headers=headers)


def too_large(limit: int) -> Response:
    return error_response(
        413, "payload_too_large", f"请求体过大(上限 {limit} 字节)", f"request body too large (limit {limit} bytes)"
    )


def invalid_utf8() -> Response:
    item = ErrorItem(loc=["body"], type="utf8_invalid", message_zh="请求体不是有效的 UTF-8 编码",
                     message_en="request body is not valid UTF-8")
    return validation_response([item])


def internal_error() -> Response:
    return status_error(500)


# --- validation errors ----------------------------------------------------------------------------------

MAX_NAME_CHARS = 32
MAX_NAMES_SHOWN = 3
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.\-\[\]\u4e00-\u9fff]")


def safe_name(name: object) -> str:
    """A name the client sent, fit to repeat in an error message (see the module docstring)."""
    text = _UNSAFE_NAME_CHARS.sub("?", mask_pii(str(name))) or "?"
    return text if len(text) <= MAX_NAME_CHARS else text[: MAX_NAME_CHARS - 1] + "…"


def _unknown_fields(errs: Sequence[dict[str, Any]]) -> ErrorItem:
    """All ``extra_forbidden`` errors at one place as one item: how many, and the first few names."""
    names = [safe_name(e["loc"][-1]) if e.get("loc") else "?" for e in errs]
    shown, more = names[:MAX_NAMES_SHOWN], len(names) > MAX_NAMES_SHOWN
    zh_names = "、".join(f"“{n}”" for n in shown) + ("等" if more else "")
    en_names = ", ".join(f"'{n}'" for n in shown) + (", …" if more else "")
    if len(names) == 1:
        zh, en = f"不支持的字段{zh_names}", f"unknown field {en_names}"
    else:
        zh, en = f"不支持的字段共 {len(names)} 个:{zh_names}", f"{len(names)} unknown fields: {en_names}"
    parent = [p if isinstance(p, int) else str(p) for p in errs[0].get("loc", ())[:-1]]
    return ErrorItem(loc=[*parent, names[0]], field=names[0], type="extra_forbidden", message_zh=zh, message_en=en)

def _field_of(loc: Sequence[Any]) -> str | None:
    names = [str(p) for p in loc if isinstance(p, str) and p != "body"]
    return names[-1] if names else None


def translate(err: dict[str, Any]) -> ErrorItem:
    """Turn one pydantic/FastAPI error dict into a bilingual item, without echoing the input."""
    loc = [p if isinstance(p, int) else str(p) for p in err.get("loc", ())]
    typ = str(err.get("type", "value_error"))
    ctx = err.get("ctx") or {}
    field = _field_of(loc)
    label = FIELD_LABELS_ZH.get(field or "", field or "")
    whole_body = [p for p in loc if p != "body"] == []

    if typ == "json_invalid":
        zh, en = "请求体不是有效的 JSON", "request body is not valid JSON"
    elif whole_body and typ == "missing":
        zh, en = "请求体不能为空,需要一个 JSON 对象", "request body is required (a JSON object)"
    elif whole_body and typ in ("model_attributes_type", "model_type", "dict_type"):
        zh, en = ("请求体必须是 JSON 对象(Content-Type: application/json)",
                  "request body must be a JSON object (Content-Type: application/json)")
    elif typ == "missing":
        zh, en = f"缺少{label}", f"{field} is required"
    elif typ == "extra_forbidden":
        return _unknown_fields([err])
    elif typ == "string_too_short":
        zh, en = f"{label}不能为空", f"{field} must not be empty"
    elif typ == "string_too_long":
        n = ctx.get("max_length")
        zh, en = f"{label}不能超过 {n} 个字", f"{field} must be at most {n} characters"
    elif typ == "string_unicode":
        zh, en = f"{label}包含无效的字符", f"{field} contains invalid characters (lone surrogates)"
    elif typ == "string_type":
        zh, en = f"{label}必须是字符串", f"{field} must be a string"
    elif typ in ("int_type", "int_parsing", "int_from_float"):
        zh, en = f"{label}必须是整数", f"{field} must be an integer"
    elif typ in ("greater_than_equal", "greater_than"):
        n = ctx.get("ge", ctx.get("gt"))
        zh, en = f"{label}不能小于 {n}", f"{field} must be at least {n}"
    elif typ in ("less_than_equal", "less_than"):
        n = ctx.get("le", ctx.get("lt"))
        zh, en = f"{label}不能大于 {n}", f"{field} must be at most {n}"
    elif typ in ("dict_type", "model_type", "model_attributes_type"):
        zh, en = f"{label}必须是 JSON 对象", f"{field} must be a JSON object"
    elif typ == "too_long":
        n = ctx.get("max_length")
        zh, en = f"{label}最多 {n} 项", f"{field} must have at most {n} items"
    else:
        zh, en = f"{label}的值无效", f"invalid value for {field}"
    return ErrorItem(loc=loc, field=field, type=typ, message_zh=zh, message_en=en)


def validation_response(items: Iterable[ErrorItem]) -> Response:
    items = list(items)
    first = items[0]
    zh, en = first.message_zh, first.message_en
    if len(items) > 1:
        zh += f"(另有 {len(items) - 1} 处错误)"
        en += f" (and {len(items) - 1} more)"
    return error_response(422, "invalid_request", zh, en, items)


def validation_error_response(errors: Sequence[dict[str, Any]]) -> Response:
    # Unknown fields first, one item per place: with a typo ("qustion") it explains the "missing"
    # error that follows, and a body of a thousand unknown fields gives one short item, not a thousand.
    extra: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for e in errors:
        if e.get("type") == "extra_forbidden":
            extra.setdefault(tuple(e.get("loc", ()))[:-1], []).append(e)
    items = [_unknown_fields(group) for group in extra.values()]
    items += [translate(e) for e in errors if e.get("type") != "extra_forbidden"]
    if not items:
        items = [ErrorItem(loc=["body"], type="value_error", message_zh="请求无效", message_en="invalid request")]
    return validation_response(items)


def question_error_response(field: str, message: str) -> Response:
    """The service's own check of a question (``qa.normalize.QuestionError``: "中文 / English")."""
    zh, _, en = message.partition(" / ")
    zh, en = zh.strip() or "问题无效", en.strip() or "invalid question"
    if field != "question":
        zh = zh.replace("问题", FIELD_LABELS_ZH.get(field, field), 1)
        en = en.replace("question", field, 1)
    item = ErrorItem(loc=["body", field], field=field, type="question_invalid", message_zh=zh, message_en=en)
    return error_response(422, "invalid_request", zh, en, [item])


_KNOWN_PARAMS = frozenset(p.name for spec in KINDS.values() for p in spec.params) | {"kind", "params"}


def calc_error_response(param: str, message_zh: str, message_en: str) -> Response:
    if param not in _KNOWN_PARAMS:
        # An unknown parameter: its name is the client's, quoted by the calculator as “name” / 'name'.
        safe = safe_name(param)
        if safe != param:
            message_zh = message_zh.replace(f"“{param}”", f"“{safe}”")
            message_en = message_en.replace(repr(param), repr(safe))
            if param in message_zh or param in message_en:  # quoted some other way: say less
                message_zh, message_en = f"未知参数“{safe}”", f"unknown parameter '{safe}'"
            param = safe
    if param in ("kind", "params"):
        loc: list[str | int] = ["body", param]
    else:
        loc = ["body", "params", param]
    item = ErrorItem(loc=loc, field=param, type="calc_error", message_zh=message_zh, message_en=message_en)
    return error_response(422, "invalid_request", message_zh, message_en, [item])


def described(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for routes that answer these error statuses with the common error body."""
    texts = {401: "缺少或错误的管理令牌 / missing or wrong admin token",
             403: "管理接口未启用 / admin API disabled (set YIBAO_ADMIN_TOKEN)",
             404: "未知的文档、问答、对话或回答 / unknown id", 409: "冲突 / conflict",
             413: "文件过大 / file too large", 415: "类型不支持或不符 / unsupported or mismatched type",
             422: "输入无效 / invalid input", 503: "暂时不可用 / unavailable"}
    return {s: {"model": ErrorBody, "description": texts.get(s, "error")} for s in statuses}
