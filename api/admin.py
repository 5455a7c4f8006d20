"""The knowledge-base admin API: add, replace and remove documents while the service runs.

Enabled only when ``YIBAO_ADMIN_TOKEN`` is set (otherwise 403 saying how to enable it); every call
sends ``Authorization: Bearer <token>``, compared in constant time. A change answers 2xx only after it
is published; from then on every request on every worker answers from the new version (each worker
checks the published version at the start of each request). Bad input gets a 4xx naming the problem
and changes nothing.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ingest.faq import FAQFileError
from ingest.kb import KnowledgeBase, KnowledgeError
from ingest.parse import UploadError

from . import errors

log = logging.getLogger("yibao.api.admin")
ERRORS = errors.described(401, 403, 404, 409, 413, 415, 422, 503)


def _form_body(*fields: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI request body of a multipart upload (FastAPI cannot infer it: the form is read by hand)."""
    return {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"], "properties": dict(fields)}}}}}


DOCUMENT_FORM = _form_body(
    ("file", {"type": "string", "format": "binary", "description": ".txt .md .html .htm .pdf .docx"}),
    ("metadata", {"type": "string", "description": "JSON object: title, regions, date, effective_from, expires, "
                                                   "insurance_types, publisher, source_url"}))
FAQ_FORM = _form_body(
    ("file", {"type": "string", "format": "binary", "description": ".csv .tsv .xlsx .jsonl"}),
    ("skip_bad", {"type": "string", "enum": ["true", "false"], "description": "import the good rows anyway"}))

UPLOAD_PATHS = ("/api/documents", "/api/faq")
FORM_FIELDS = {"file", "metadata"}
# One change at a time inside a worker (the knowledge base's file lock serialises across processes).
_CHANGE_LIMIT = 1


def _error(status: int, code: str, zh: str, en: str, headers: dict[str, str] | None = None) -> Response:
    return errors.error_response(status, code, zh, en, headers=headers)


def check_token(request: Request) -> Response | None:
    """None when the request may change the knowledge base, else the error response to send."""
    token = request.app.settings.admin_token
    if not token:
        return _error(403, "admin_disabled", "管理接口未启用:请设置环境变量 YIBAO_ADMIN_TOKEN 后重启服务",
                      "the admin API is disabled; set YIBAO_ADMIN_TOKEN and restart the service")
    given = request.headers.get("authorization", "")
    scheme, _, value = given.partition(" ")
    ok = scheme.lower() == "bearer" and hmac.compare_digest(value.strip().encode(), token.encode())
    if not ok:
        return _error(401, "unauthorized", "缺少或错误的管理令牌(Authorization: Bearer <token>)",
                      "missing or wrong admin token (Authorization: Bearer <token>)",
                      headers={"WWW-Authenticate": 'Bearer realm="yibao-qa admin"'})
    return None


class _Denied(Exception):
    """Raised by the ``admin`` dependency, so the token is checked before a JSON body is validated."""

    def __init__(self, response: Response):
        self.response = response


def admin(request: Request) -> None:
    denied = check_token(request)
    if denied is not None:
        raise _Denied(denied)


def _kb(request: Request) -> KnowledgeBase:
    app = request.app
    if app.service is None:
        raise StarletteHTTPException(503)
    if getattr(app, "knowledge", None) is None:
        app.knowledge = KnowledgeBase(app.settings, app.service.embedder)
    return app.knowledge


async def _form(request: Request) -> tuple[str, bytes, dict[str, Any]] | Response:
    """The upload's file name, bytes and given metadata, or the 4xx to answer."""
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("multipart/form-data"):
        return _error(415, "unsupported_media_type",
                      "请用 multipart/form-data 上传,字段 file(文件)和 metadata(可选 JSON)",
                      "send multipart/form-data with a field `file` and an optional JSON field `metadata`")
    try:
        form = await request.form(max_files=1, max_fields=4)
    except Exception:  # noqa: BLE001 - python-multipart raises several kinds for a malformed body
        return _error(422, "invalid_form", "表单无法解析", "the multipart form cannot be parsed")
    unknown = sorted(set(form.keys()) - FORM_FIELDS)
    if unknown:
        names = ", ".join(errors.safe_name(n) for n in unknown[:3])
        return _error(422, "unknown_field", f"未知的表单字段:{names}", f"unknown form field(s): {names}")
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        return _error(422, "missing_file", "缺少文件字段 file", "the form has no file field `file`")
    raw_meta = form.get("metadata")
    metadata: dict[str, Any] = {}
    if raw_meta is not None:
        if not isinstance(raw_meta, str):
            return _error(422, "bad_metadata", "metadata 必须是 JSON 文本", "metadata must be a JSON text field")
        try:
            metadata = json.loads(raw_meta) if raw_meta.strip() else {}
        except json.JSONDecodeError as exc:
            return _error(422, "bad_metadata", f"metadata 不是有效的 JSON(第{exc.colno}列)",
                          f"metadata is not valid JSON (column {exc.colno})")
        if not isinstance(metadata, dict):
            return _error(422, "bad_metadata", "metadata 必须是 JSON 对象", "metadata must be a JSON object")
    data = await upload.read()
    return upload.filename or "", data, metadata


def _change_response(result, status: int) -> Response:
    body = {"doc_id": result.doc_id, "title": result.title, "chunks": result.chunks, "metadata": result.metadata,
            "version": result.version, "created": result.created, "embedded": result.embedded}
    return errors.JSONBody(body, status_code=status)


def _failure(exc: Exception) -> Response:
    if isinstance(exc, UploadError | KnowledgeError):
        return _error(exc.status, exc.code, exc.message_zh, exc.message_en)
    raise exc


def install_admin(app: FastAPI) -> None:
    limiter = anyio.CapacityLimiter(_CHANGE_LIMIT)

    @app.exception_handler(_Denied)
    async def denied(request: Request, exc: _Denied) -> Response:
        return exc.response

    async def _apply(request: Request, fn, *args) -> Any:
        result = await anyio.to_thread.run_sync(fn, *args, limiter=limiter)
        # This worker answers from the new version at once; the others on their next request.
        await anyio.to_thread.run_sync(request.app.service.refresh)
        return result

    @app.post("/api/documents", tags=["文档"], status_code=201, summary="上传文档 / add a document (admin)",
              openapi_extra=DOCUMENT_FORM,
              responses={**ERRORS, 201: {"description": "added"},
                         200: {"description": "identical content already present"}})
    async def add_document(request: Request) -> Response:
        """上传 .txt/.md/.html/.pdf/.docx 文件(字段 `file`),可附 `metadata`(JSON)。需要管理令牌。

        Adds a document (multipart field `file`, optional JSON `metadata`: title, regions, date,
        effective_from, expires, insurance_types, publisher, source_url). 201 with
        `{doc_id, title, chunks, metadata, version}`; identical content already present: 200, same doc_id."""
        denied = check_token(request)
        if denied is not None:
            return denied
        form = await _form(request)
        if isinstance(form, Response):
            return form
        filename, data, metadata = form
        try:
            result = await _apply(request, _kb(request).add, filename, data, metadata)
        except (UploadError, KnowledgeError) as exc:
            return _failure(exc)
        log.info("document %s %s (version %s)", result.doc_id, "added" if result.created else "already present",
                 result.version)
        return _change_response(result, 201 if result.created else 200)

    @app.put("/api/documents/{doc_id}", tags=["文档"], summary="替换文档 / replace a document (admin)",
             openapi_extra=DOCUMENT_FORM,
              responses=ERRORS)
    async def replace_document(request: Request, doc_id: str) -> Response:
        """用新文件替换文档内容(同上传的表单);旧内容从此不再被引用。 / Replaces a document's content."""
        denied = check_token(request)
        if denied is not None:
            return denied
        form = await _form(request)
        if isinstance(form, Response):
            return form
        filename, data, metadata = form
        try:
            result = await _apply(request, _kb(request).replace, doc_id, filename, data, metadata)
        except (UploadError, KnowledgeError) as exc:
            return _failure(exc)
        log.info("document %s replaced (version %s)", result.doc_id, result.version)
        return _change_response(result, 200)

    @app.delete("/api/documents/{doc_id}", tags=["文档"], summary="删除文档 / remove a document (admin)",
              responses=ERRORS)
    async def remove_document(request: Request, doc_id: str) -> Response:
        """删除文档;返回后任何进程都不会再引用它。 / Removes a document; never cited after this returns."""
        denied = check_token(request)
        if denied is not None:
            return denied
        try:
            result = await _apply(request, _kb(request).remove, doc_id)
        except KnowledgeError as exc:
            return _failure(exc)
        log.info("document %s removed (version %s)", result.doc_id, result.version)
        return errors.JSONBody({"doc_id": result.doc_id, "removed": True, "version": result.version},
                               status_code=200)


# --- FAQ pairs --------------------------------------------------------------------------------------


class _PairBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    answer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20_000)]
    similar_questions: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                             max_length=500)]] = Field(default_factory=list,
                                                                                       max_length=50)
    region: str | None = Field(None, max_length=200)
    insurance_type: str | None = Field(None, max_length=200)
    source: str | None = Field(None, max_length=200)


class _SimilarBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    question: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


def _faq_change_body(change) -> dict[str, Any]:
    return {"applied": change.applied, "added": change.added, "updated": change.updated,
            "unchanged": change.unchanged, "problems": change.problems, "version": change.version}


def install_faq_admin(app: FastAPI) -> None:
    limiter = anyio.CapacityLimiter(_CHANGE_LIMIT)

    async def _apply(request: Request, fn, *args, **kw) -> Any:
        result = await anyio.to_thread.run_sync(lambda: fn(*args, **kw), limiter=limiter)
        await anyio.to_thread.run_sync(request.app.service.refresh)
        return result

    @app.get("/api/faq", tags=["常见问题"], summary="常见问题列表 / FAQ pairs",
              responses=ERRORS)
    async def list_faq(request: Request) -> Response:
        """每条问答:问题、相似问法、答案、地区、来源。 / Every FAQ pair with its similar questions."""
        pairs = await anyio.to_thread.run_sync(_kb(request).faq_pairs)
        return errors.JSONBody({"version": request.app.service.data.version,
                                "pairs": [{"pair_id": pid, **p} for pid, p in sorted(pairs.items())]})

    @app.post("/api/faq", tags=["常见问题"], summary="导入常见问题 / import a FAQ list (admin)", openapi_extra=FAQ_FORM,
              responses=ERRORS)
    async def import_faq(request: Request) -> Response:
        """上传 CSV/TSV/XLSX/JSONL(字段 `file`;可选 `skip_bad=true`)。有错误行时默认不做任何修改(422,逐行列出)。

        Imports a FAQ list (columns question, answer, similar_questions, region, source). A file with bad rows
        changes nothing (422 listing them by line) unless `skip_bad=true`."""
        denied = check_token(request)
        if denied is not None:
            return denied
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return _error(415, "unsupported_media_type", "请用 multipart/form-data 上传,字段 file",
                          "send multipart/form-data with a field `file`")
        try:
            form = await request.form(max_files=1, max_fields=4)
        except Exception:  # noqa: BLE001 - python-multipart raises several kinds for a malformed body
            return _error(422, "invalid_form", "表单无法解析", "the multipart form cannot be parsed")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return _error(422, "missing_file", "缺少文件字段 file", "the form has no file field `file`")
        skip = str(form.get("skip_bad", "")).lower() in ("1", "true", "yes", "on")
        data = await upload.read()
        try:
            change = await _apply(request, _kb(request).import_faq, upload.filename or "", data, skip_bad=skip)
        except FAQFileError as exc:
            return _error(422, exc.code, exc.message_zh, exc.message_en)
        except KnowledgeError as exc:
            return _failure(exc)
        if not change.applied:
            n = len(change.problems)
            zh = f"文件中有 {n} 行有问题,未做任何修改(skip_bad=true 可只导入其余各行)"
            en = f"{n} bad rows; nothing was changed (skip_bad=true imports the other rows)"
            body = errors.ErrorBody(error="bad_rows", message=f"{zh} / {en}", message_zh=zh, message_en=en)
            return errors.JSONBody({**body.model_dump(), "problems": change.problems}, status_code=422)
        return errors.JSONBody(_faq_change_body(change), status_code=201 if change.added else 200)

    @app.post("/api/faq/pairs", tags=["常见问题"], status_code=201, summary="新增一条问答 / add one pair (admin)",
              responses=ERRORS, dependencies=[Depends(admin)])
    async def add_pair(request: Request, body: _PairBody) -> Response:
        denied = check_token(request)
        if denied is not None:
            return denied
        from ingest.faq import FAQPair, pair_id_for

        pair = FAQPair(pair_id_for(body.question), body.question, body.answer, tuple(body.similar_questions),
                       body.region, body.insurance_type, body.source)
        try:
            change = await _apply(request, _kb(request).add_pairs, [pair])
        except KnowledgeError as exc:
            return _failure(exc)
        if not change.applied:
            return errors.JSONBody({**errors.ErrorBody(error="bad_pair", message="问答无法添加 / cannot add the pair",
                                                       message_zh="问答无法添加", message_en="cannot add the pair")
                                    .model_dump(), "problems": change.problems}, status_code=409)
        return errors.JSONBody({"pair_id": pair.pair_id, **_faq_change_body(change)},
                               status_code=201 if change.added else 200)

    @app.post("/api/faq/{pair_id}/similar", tags=["常见问题"], summary="增加相似问法 / add a similar question (admin)",
              responses=ERRORS, dependencies=[Depends(admin)])
    async def add_similar(request: Request, pair_id: str, body: _SimilarBody) -> Response:
        denied = check_token(request)
        if denied is not None:
            return denied
        try:
            pair = await _apply(request, _kb(request).add_similar, pair_id, body.question)
        except KnowledgeError as exc:
            return _failure(exc)
        return errors.JSONBody(pair)

    @app.put("/api/faq/{pair_id}", tags=["常见问题"], summary="替换问答 / replace a pair (admin)",
              responses=ERRORS, dependencies=[Depends(admin)])
    async def replace_pair(request: Request, pair_id: str, body: _PairBody) -> Response:
        denied = check_token(request)
        if denied is not None:
            return denied
        try:
            pair = await _apply(request, _kb(request).replace_pair, pair_id, body.question, body.answer,
                                body.similar_questions, body.region, body.insurance_type, body.source)
        except KnowledgeError as exc:
            return _failure(exc)
        return errors.JSONBody(pair)

    @app.delete("/api/faq/{pair_id}", tags=["常见问题"], summary="删除问答 / remove a pair (admin)",
              responses=ERRORS)
    async def remove_pair(request: Request, pair_id: str) -> Response:
        denied = check_token(request)
        if denied is not None:
            return denied
        try:
            version = await _apply(request, _kb(request).remove_pair, pair_id)
        except KnowledgeError as exc:
            return _failure(exc)
        return errors.JSONBody({"pair_id": pair_id, "removed": True, "version": version})
