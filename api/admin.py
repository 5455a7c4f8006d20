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
from typing import Any

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ingest.kb import KnowledgeBase, KnowledgeError
from ingest.parse import UploadError

from . import errors

log = logging.getLogger("yibao.api.admin")

UPLOAD_PATHS = ("/api/documents",)
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

    async def _apply(request: Request, fn, *args) -> Any:
        result = await anyio.to_thread.run_sync(fn, *args, limiter=limiter)
        # This worker answers from the new version at once; the others on their next request.
        await anyio.to_thread.run_sync(request.app.service.refresh)
        return result

    @app.post("/api/documents", tags=["文档"], status_code=201, summary="上传文档 / add a document (admin)",
              responses={201: {"description": "added"}, 200: {"description": "identical content already present"}})
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

    @app.put("/api/documents/{doc_id}", tags=["文档"], summary="替换文档 / replace a document (admin)")
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

    @app.delete("/api/documents/{doc_id}", tags=["文档"], summary="删除文档 / remove a document (admin)")
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
