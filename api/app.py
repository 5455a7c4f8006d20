"""The HTTP API and the chat page.

``create_app(settings, service=None)`` builds the app; the QA service is loaded once when the app
starts (the ASGI lifespan), in a worker thread, from ``settings.index_dir``. If it cannot be loaded
the start-up fails with the service's one-line message and no traceback. ``uvicorn api.app:app``
works too; ``python -m api`` is the documented way (it builds a missing index first).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from importlib import util as importlib_util
from pathlib import Path
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import Body, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Receive, Scope, Send

from ingest.settings import Settings, get_settings
from qa.calculator import CalcError
from qa.conversations import ConversationStore, ConversationStoreError, UnknownConversation
from qa.models import Answer, Calculation
from qa.normalize import QuestionError
from qa.service import IndexNotReady, QAService

from . import errors
from .admin import UPLOAD_PATHS, install_admin, install_faq_admin
from .conversations import install_conversations
from .insights import install_insights
from .middleware import BodyLimitMiddleware, with_security_headers
from .privacy import install_log_masking, mask_pii
from .schemas import (
    ASK_EXAMPLES,
    CALCULATE_EXAMPLES,
    SEARCH_EXAMPLES,
    AskRequest,
    CalculateRequest,
    Document,
    DocumentList,
    Health,
    SearchRequest,
    SearchResponse,
)

log = logging.getLogger("yibao.api")

STATIC_DIR = Path(__file__).resolve().parent / "static"
DOC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: {"model": errors.ErrorBody, "description": "输入无效 / invalid input (message names the field)"},
    413: {"model": errors.ErrorBody, "description": "请求体过大 / body larger than max_body_bytes"},
    500: {"model": errors.ErrorBody, "description": "服务器内部错误 / generic internal error"},
}

DESCRIPTION = """\
医保断缴问答:基于五篇文章回答医保断缴、补缴、恢复参保和待遇等待期的问题,每个回答都附引用段落;
数字问题交给确定性的计算器;超出范围的问题会被礼貌拒答。

Every error (4xx/5xx) has one shape: `{"error", "message", "message_zh", "message_en", "detail": [...]}`;
`message` is "中文 / English" and `detail` names each bad field. Request bodies are JSON objects with no
unknown fields and no type coercion (`"5"` is not an integer); larger than `max_body_bytes` → 413.
"""


def _swagger_assets() -> Path | None:
    """The Swagger UI files shipped inside the fastapi-offline package, if it is installed."""
    spec = importlib_util.find_spec("fastapi_offline")
    if spec is None or not spec.origin:
        return None
    folder = Path(spec.origin).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


DOCS_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>yibao-qa API 文档</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/docs-static/swagger-ui.css">
<link rel="icon" href="/static/favicon.svg"></head>
<body><div id="swagger-ui"></div>
<script src="/docs-static/swagger-ui-bundle.js"></script>
<script src="/static/docs.js"></script></body></html>
"""

DOCS_FALLBACK_HTML = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>yibao-qa API 文档</title>
<link rel="stylesheet" href="/static/style.css"></head>
<body class="plain"><main class="plain-page"><h1>yibao-qa API</h1>
<p>Swagger UI 未安装(pip install fastapi-offline)。接口说明见 <a href="/openapi.json">/openapi.json</a>。</p>
<p>Swagger UI is not installed (pip install fastapi-offline); the API description is at
<a href="/openapi.json">/openapi.json</a>.</p></main></body></html>
"""


class QuestionLog:
    """Appends masked questions to a JSONL file, only when ``store_questions`` is on."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, question: str, answer: Answer) -> None:
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "question": mask_pii(question),
            "refused": answer.refused,
            "citations": len(answer.citations),
        }
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
        log.info("question: %s", record["question"])


class YibaoApp(FastAPI):
    """FastAPI plus: security headers on *every* response (even the 500s sent by the outermost error
    middleware) and a lifespan that fails start-up with one clean line instead of a traceback."""

    settings: Settings
    service: QAService | None
    limiter: anyio.CapacityLimiter | None
    question_log: QuestionLog | None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] == "http":
            send = with_security_headers(scope, send)
        await super().__call__(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    # uvicorn logs this one line and exits; it prints no traceback for a failure it was told
                    # about. The exception is re-raised so in-process runners (TestClient) see it too.
                    await send({"type": "lifespan.startup.failed", "message": startup_message(exc)})
                    raise
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        self.limiter = anyio.CapacityLimiter(self.settings.ask_concurrency)
        if self.service is None:
            self.service = await anyio.to_thread.run_sync(QAService.load, self.settings)
        if self.service.conversations is None and self.settings.conversations_db is not None:
            await anyio.to_thread.run_sync(self._open_conversations)
        health = self.service.health()
        log.info("QA service ready: %s documents, %s chunks, model %s",
                 health.get("documents"), health.get("chunks"), health.get("model"))


    def _open_conversations(self) -> None:
        """The shared conversation store; unusable (locked, corrupt, unwritable) → questions answered alone."""
        try:
            store = ConversationStore(self.settings.conversations_db)
            purged = store.purge_if_due(self.settings.retention_days) or 0
        except ConversationStoreError as exc:
            log.error("conversations disabled: %s", exc)
            return
        if purged:
            log.info("retention: deleted %d conversations older than %d days", purged, self.settings.retention_days)
        assert self.service is not None
        self.service.conversations = store


def startup_message(exc: BaseException) -> str:
    if isinstance(exc, IndexNotReady):
        text = str(exc)
    else:
        text = f"cannot load the QA service: {type(exc).__name__}: {exc}"
    return "error: " + " ".join(text.split())


def check_service(settings: Settings | None = None) -> str | None:
    """Load the QA service once (index + model, as configured): its one-line error, or None if it loads.

    ``python -m api --workers N`` runs this in a child process before starting the workers."""
    try:
        QAService.load(settings or get_settings())
    except Exception as exc:  # IndexNotReady, a missing model, …: one line, no traceback
        return startup_message(exc)
    return None


def create_app(settings: Settings | None = None, service: QAService | None = None) -> YibaoApp:
    """Build the app. ``service`` skips loading (``python -m api`` loads it before serving)."""
    settings = settings or get_settings()
    install_log_masking()
    app = YibaoApp(
        title="yibao-qa 医保断缴问答",
        version="0.1.0",
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
        openapi_tags=[
            {"name": "问答", "description": "提问、检索与计算 / ask, search, calculate"},
            {"name": "文档", "description": "语料文章 / corpus documents"},
            {"name": "状态", "description": "健康检查 / health"},
        ],
    )
    app.settings = settings
    app.service = service
    app.limiter = None
    app.question_log = QuestionLog(settings.questions_log) if settings.store_questions else None

    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes, upload_paths=UPLOAD_PATHS,
                       max_upload_bytes=settings.max_upload_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE"],
            allow_headers=["Content-Type", "Authorization"],
            max_age=600,
        )

    _install_error_handlers(app)
    _install_routes(app)
    install_admin(app)
    install_faq_admin(app)
    install_conversations(app)
    install_insights(app, STATIC_DIR)
    _install_pages(app)
    return app


# --- errors ---------------------------------------------------------------------------------------------

def _install_error_handlers(app: YibaoApp) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation_error(request: Request, exc: RequestValidationError):
        return errors.validation_error_response(exc.errors())

    @app.exception_handler(StarletteHTTPException)
    async def on_http_error(request: Request, exc: StarletteHTTPException):
        headers = dict(exc.headers) if exc.headers else None
        if exc.status_code == 400:
            # FastAPI's "error parsing the body": the body is not JSON we can read.
            item = errors.ErrorItem(loc=["body"], type="json_invalid", message_zh="请求体不是有效的 JSON",
                                    message_en="request body is not valid JSON")
            return errors.validation_response([item])
        return errors.status_error(exc.status_code, headers=headers)

    @app.exception_handler(CalcError)
    async def on_calc_error(request: Request, exc: CalcError):
        return errors.calc_error_response(exc.param, exc.message_zh, exc.message_en)

    @app.exception_handler(QuestionError)
    async def on_question_error(request: Request, exc: QuestionError):
        # The service cleans questions further than the request model (control/format characters such as
        # zero-width spaces are dropped), so "\u200b" passes the model and is empty for the service.
        field = "query" if request.url.path == "/api/search" else "question"
        return errors.question_error_response(field, str(exc))

    @app.exception_handler(Exception)
    async def on_unexpected(request: Request, exc: Exception):
        # The traceback goes to the server log only; the client gets a generic message.
        # (uvicorn logs the traceback of the re-raised exception; nothing of the request body is logged)
        log.error("unhandled %s on %s %s", type(exc).__name__, request.method, request.url.path)
        return errors.internal_error()


# --- API routes -----------------------------------------------------------------------------------------

async def _run(request: Request, fn, *args):
    app: YibaoApp = request.app
    if app.service is None or app.limiter is None:
        raise StarletteHTTPException(503)
    return await anyio.to_thread.run_sync(fn, *args, limiter=app.limiter)


def _ask(service: QAService, question: str, top_k: int, conversation_id: str | None) -> Answer:
    """A conversation turn when the service keeps conversations, else a question answered alone."""
    if service.conversations is None:
        return service.ask(question, top_k)
    return service.ask(question, top_k, conversation_id, conversation=True)


def _service(request: Request) -> QAService:
    service = request.app.service
    if service is None:
        raise StarletteHTTPException(503)
    return service


def _install_routes(app: YibaoApp) -> None:
    @app.post("/api/ask", response_model=Answer, tags=["问答"],
              responses={**ERROR_RESPONSES, 404: {"model": errors.ErrorBody,
                                                  "description": "未知的对话 / unknown conversation_id"}},
              summary="提问 / ask a question")
    async def ask(request: Request, body: Annotated[AskRequest, Body(openapi_examples=ASK_EXAMPLES)]) -> Answer:
        """回答一个关于医保断缴的问题,附带引用;超出范围时 `refused` 为 true。

        Answers one question with citations; `refused` is true for questions outside the corpus."""
        service = _service(request)
        try:
            answer: Answer = await _run(request, _ask, service, body.question, body.top_k, body.conversation_id)
        except UnknownConversation:
            return errors.error_response(404, "unknown_conversation", "没有这个对话(可能已删除或已过保存期限)",
                                         "no such conversation (deleted or past the retention period)")
        if app.question_log is not None:
            await anyio.to_thread.run_sync(app.question_log.write, body.question, answer)
        return answer

    @app.post("/api/search", response_model=SearchResponse, tags=["问答"], responses=ERROR_RESPONSES,
              summary="检索段落 / search passages")
    async def search(
        request: Request, body: Annotated[SearchRequest, Body(openapi_examples=SEARCH_EXAMPLES)]
    ) -> SearchResponse:
        """混合检索(向量 + BM25),返回段落及其在文档中的偏移。 / Hybrid retrieval hits with offsets."""
        service = _service(request)
        hits = await _run(request, service.search, body.query, body.top_k)
        return SearchResponse(hits=hits)

    @app.post("/api/calculate", response_model=Calculation, tags=["问答"], responses=ERROR_RESPONSES,
              summary="计算 / calculate")
    async def calculate(
        request: Request, body: Annotated[CalculateRequest, Body(openapi_examples=CALCULATE_EXAMPLES)]
    ) -> Calculation:
        """确定性计算(每月缴费、补缴金额、滞纳金、待遇恢复日期等);参数错误时 422 并指出参数名。

        Deterministic calculation; a bad or missing parameter gives 422 naming it (`detail[0].field`)."""
        service = _service(request)
        return await _run(request, service.calculate, body.kind, dict(body.params))

    @app.get("/api/calculate/kinds", tags=["问答"], summary="计算类型 / calculation kinds")
    async def calc_kinds(request: Request) -> dict[str, Any]:
        """每种计算的参数(名称、中文标签、类型、是否必填)。 / Parameters of each calculation kind."""
        return _service(request).calc_kinds()

    @app.get("/api/documents", response_model=DocumentList, tags=["文档"], summary="文章列表 / documents")
    async def documents(request: Request) -> DocumentList:
        """每篇文档的元数据、来源(语料/上传)、状态(有效/过期)与知识库版本。

        Each document's metadata, origin (corpus folder or uploaded), status and the knowledge-base version."""
        service = _service(request)
        docs = await anyio.to_thread.run_sync(service.documents)
        return DocumentList(version=service.data.version, documents=docs)

    @app.get("/api/documents/{doc_id}", response_model=Document, tags=["文档"],
             responses={404: {"model": errors.ErrorBody, "description": "未知文档 / unknown document"}},
             summary="文章全文 / one document")
    async def document(request: Request, doc_id: str) -> Document:
        """清洗后的全文;引用的 start/end/highlights 都是这段文字里的偏移。

        The cleaned text that citation offsets index. Served from memory; unknown ids are 404."""
        if not DOC_ID.fullmatch(doc_id):
            raise StarletteHTTPException(404)
        doc = _service(request).document(doc_id)
        if doc is None:
            raise StarletteHTTPException(404)
        return Document(**doc)

    @app.get("/api/health", response_model=Health, tags=["状态"], summary="健康检查 / health")
    async def health(request: Request) -> Health:
        return Health(**_service(request).health())


# --- page and docs --------------------------------------------------------------------------------------

def _install_pages(app: YibaoApp) -> None:
    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    @app.get("/kb", include_in_schema=False)
    async def kb_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "kb.html", headers={"Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    assets = _swagger_assets()
    if assets is not None:
        app.mount("/docs-static", StaticFiles(directory=assets), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML if assets is not None else DOCS_FALLBACK_HTML)


app = create_app()
