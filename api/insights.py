"""The knowledge-gap report for maintainers (admin token): JSON, CSV and the /kb/insights page.

Questions that got ``no_answer``/``partial`` and answers rated 👎, grouped into clusters by the index's
own embeddings (``qa.insights``), most frequent first, with volume per day. From a cluster the page
starts a FAQ pair (``POST /api/faq/pairs``) with the cluster's questions as its ways of asking.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse
from starlette.responses import Response

from qa.conversations import ConversationStoreError
from qa.insights import gap_report

from . import errors
from .admin import check_token

log = logging.getLogger("yibao.api.insights")
ERRORS = errors.described(401, 403, 404, 409, 413, 415, 422, 503)
MAX_DAYS = 3650


def _since(request: Request) -> date | Response | None:
    raw = request.query_params.get("days")
    if raw is None:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_DAYS:
        return errors.error_response(422, "bad_days", f"days 应为 1–{MAX_DAYS} 的整数",
                                     f"days must be a whole number from 1 to {MAX_DAYS}")
    return date.today() - timedelta(days=int(raw) - 1)


def install_insights(app: FastAPI, static_dir) -> None:
    @app.get("/kb/insights", include_in_schema=False)
    async def insights_page() -> FileResponse:
        return FileResponse(static_dir / "insights.html", headers={"Cache-Control": "no-cache"})

    async def _report(request: Request):
        denied = check_token(request)
        if denied is not None:
            return denied
        since = _since(request)
        if isinstance(since, Response):
            return since
        service = request.app.service
        store = getattr(service, "conversations", None) if service is not None else None
        if store is None:
            return errors.error_response(503, "conversations_unavailable", "对话记录未启用或不可用",
                                         "the conversation store is not available")
        try:
            return await anyio.to_thread.run_sync(
                lambda: gap_report(store, service.embedder.encode, since=since))
        except ConversationStoreError as exc:
            log.error("insights unavailable: %s", exc)
            return errors.error_response(503, "conversations_unavailable", "对话记录暂时不可用",
                                         "the conversation store is unavailable")

    @app.get("/api/insights", tags=["文档"], summary="知识缺口报告 / knowledge-gap report (admin)",
              responses=ERRORS)
    async def insights(request: Request) -> Response:
        """未能回答(no_answer/partial)或被点踩的问题,按相似度聚类,最多的在前;按天的提问量。`?days=N` 限定最近N天。

        Unanswered and 👎 questions grouped into clusters (most frequent first) and questions per day."""
        report = await _report(request)
        if isinstance(report, Response):
            return report
        return errors.JSONBody(report.to_dict())

    @app.get("/api/insights.csv", tags=["文档"], summary="知识缺口 CSV / knowledge gaps as CSV (admin)",
              responses=ERRORS)
    async def insights_csv(request: Request) -> Response:
        report = await _report(request)
        if isinstance(report, Response):
            return report
        return Response("\ufeff" + report.to_csv(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="yibao-knowledge-gaps.csv"'})
