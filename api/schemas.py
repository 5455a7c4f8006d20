"""Request bodies (strict: no unknown fields, no type coercion) and the small response wrappers."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator
from pydantic_core import PydanticCustomError

from qa.models import SearchHit

MAX_QUESTION_CHARS = 500
MAX_TOP_K = 20

# 1–500 characters *after trimming*: JSON Schema cannot say that, and a plain maxLength would call
# " " + 500 characters invalid although the API accepts it; so the schema carries minLength 1 and an
# extension with the limit, and the description says it.
Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_QUESTION_CHARS),
    WithJsonSchema({"type": "string", "minLength": 1, "x-max-length-after-trim": MAX_QUESTION_CHARS}),
]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K)]


class _Strict(BaseModel):
    # strict: "5" is not an integer and 5.0 is not either; extra="forbid": typos are errors.
    model_config = ConfigDict(extra="forbid", strict=True)


class AskRequest(_Strict):
    question: Text = Field(
        description="用户的问题,去掉首尾空白后 1–500 个字 / the question, 1–500 characters after trimming"
    )
    top_k: TopK = Field(5, description="最多检索的段落数 / passages to retrieve (1–20)")
    conversation_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{24}$")] | None = Field(
        None, description="上一轮回答里的对话编号:追问(“那职工医保呢?”)会沿用前面确定的内容;不填则开始新对话 / "
                          "the conversation this question continues; omit to start one")


class SearchRequest(_Strict):
    query: Text = Field(description="检索词,去掉首尾空白后 1–500 个字 / search text, 1–500 characters after trimming")
    top_k: TopK = Field(10, description="返回条数 / hits to return (1–20)")


class CalculateRequest(_Strict):
    kind: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)] = Field(
        description="计算类型,见 GET /api/calculate/kinds / calculation kind"
    )
    params: dict[str, Any] = Field(
        default_factory=dict, max_length=32,
        description="参数,数值或中文写法均可(如 \"4340元\"、\"4%\") / named parameters",
    )


    @field_validator("params")
    @classmethod
    def _no_lone_surrogates(cls, params: dict[str, Any]) -> dict[str, Any]:
        # JSON may spell lone surrogates as \ud800 escapes; strict str fields reject them, but free-form
        # params would reach the calculator and come back inside messages that cannot be encoded.
        if _has_lone_surrogate(params):
            raise PydanticCustomError("string_unicode", "params contain lone surrogates")
        return params


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


class SearchResponse(BaseModel):
    hits: list[SearchHit]


class DocumentSummary(BaseModel):
    doc_id: str
    title: str
    metadata: dict[str, Any] = Field(default_factory=dict)
    chunks: int
    origin: str = Field("corpus", description="corpus(语料文件夹)或 upload(管理接口上传)")
    status: str = Field("active", description="active,或 expired(超过 expires 日期,不再用于回答)")


class DocumentList(BaseModel):
    version: str = Field("", description="知识库版本,每次增删改后变化 / knowledge-base version")
    documents: list[DocumentSummary]


class Document(BaseModel):
    doc_id: str
    title: str
    text: str
    metadata: dict[str, Any] = Field(default_factory=dict)


class Health(BaseModel):
    status: str
    documents: int
    chunks: int
    model: str | None = None
    index_hash: str | None = None
    version: str | None = None
    worker: int | None = Field(None, description="进程号:多进程部署时区分由哪个进程回答 / the answering worker's pid")


ASK_EXAMPLES = {
    "waiting": {"summary": "断缴后多久恢复报销", "value": {"question": "断缴3个月后补缴,多久能恢复报销?"}},
    "monthly": {"summary": "每月缴费计算", "value": {"question": "缴费基数4340元、费率4%,每月交多少?", "top_k": 5}},
    "resident": {"summary": "居民医保缴费标准", "value": {"question": "嘉峪关居民医保2025年交多少钱?"}},
    "online": {"summary": "网上补缴流程", "value": {"question": "天津医保断交了怎么在网上补缴?"}},
    "refused": {"summary": "超出范围(会被礼貌拒答)", "value": {"question": "公积金断缴了怎么办?"}},
}
SEARCH_EXAMPLES = {
    "waiting": {"summary": "待遇等待期", "value": {"query": "补缴后待遇等待期", "top_k": 5}},
    "online": {"summary": "微信补缴", "value": {"query": "微信 支付宝 补缴医保"}},
}
CALCULATE_EXAMPLES = {
    "monthly": {
        "summary": "每月缴费 = 基数 × 费率",
        "value": {"kind": "monthly_contribution", "params": {"base": "4340元", "rate": "4%"}},
    },
    "back_payment": {
        "summary": "补缴金额",
        "value": {"kind": "back_payment", "params": {"months": 4, "wage": 8000, "rate": "10%"}},
    },
}
