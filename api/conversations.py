"""Conversation endpoints: feedback on answers, deleting a conversation, and (admin) reading one.

A conversation's turns are stored masked (ID, phone and card numbers removed) in one SQLite file
shared by every worker (``YIBAO_CONVERSATIONS_DB``); ids are unguessable. No endpoint shows a
conversation's turns without the admin token. A failing database never fails an answer.
"""

from __future__ import annotations

import logging
from typing import Annotated, Literal

import anyio
import anyio.to_thread
from fastapi import FastAPI, Request
from pydantic import BaseModel, ConfigDict, Field, StringConstraints
from starlette.responses import Response

from qa.conversations import ConversationStoreError, UnknownAnswer, UnknownConversation, is_valid_id

from . import errors
from .admin import check_token

log = logging.getLogger("yibao.api.conversations")
ERRORS = errors.described(401, 403, 404, 409, 413, 415, 422, 503)


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    answer_id: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    rating: Literal["up", "down"]
    comment: Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)] | None = Field(
        None, description="可选的简短说明(最多500字,个人号码会被遮盖) / optional short comment")


def _store(request: Request):
    store = getattr(request.app.service, "conversations", None) if request.app.service else None
    if store is None:
        return None
    return store


def _unavailable() -> Response:
    return errors.error_response(503, "conversations_unavailable", "对话记录暂时不可用,请稍后再试",
                                 "the conversation store is unavailable; try again later")


def _unknown(kind: str) -> Response:
    zh = {"conversation": "没有这个对话", "answer": "没有这个回答"}[kind]
    return errors.error_response(404, f"unknown_{kind}", zh, f"no such {kind}")


def install_conversations(app: FastAPI) -> None:
    @app.post("/api/feedback", tags=["问答"], summary="评价回答 / rate an answer",
              responses=ERRORS)
    async def feedback(request: Request, body: FeedbackRequest) -> Response:
        """对一个回答点赞或点踩(`answer_id` 来自 /api/ask 的回答),可附简短说明。 / 👍/👎 on an answer."""
        store = _store(request)
        if store is None:
            return _unavailable()
        if not is_valid_id(body.answer_id):
            return _unknown("answer")
        try:
            await anyio.to_thread.run_sync(store.add_feedback, body.answer_id, body.rating, body.comment)
        except UnknownAnswer:
            return _unknown("answer")
        except ConversationStoreError as exc:
            log.error("feedback not stored: %s", exc)
            return _unavailable()
        return errors.JSONBody({"answer_id": body.answer_id, "rating": body.rating, "stored": True})

    @app.delete("/api/conversations/{conversation_id}", tags=["问答"], summary="删除对话 / delete a conversation",
              responses=ERRORS)
    async def delete_conversation(request: Request, conversation_id: str) -> Response:
        """删除一个对话及其全部记录与评价(知道对话编号即可删除)。 / Deletes a conversation with its turns."""
        store = _store(request)
        if store is None:
            return _unavailable()
        if not is_valid_id(conversation_id):
            return _unknown("conversation")
        try:
            deleted = await anyio.to_thread.run_sync(store.delete_conversation, conversation_id)
        except ConversationStoreError as exc:
            log.error("conversation not deleted: %s", exc)
            return _unavailable()
        if not deleted:
            return _unknown("conversation")
        return errors.JSONBody({"conversation_id": conversation_id, "deleted": True})

    @app.get("/api/conversations/{conversation_id}", tags=["问答"], summary="对话记录 / a conversation (admin)",
              responses=ERRORS)
    async def conversation(request: Request, conversation_id: str) -> Response:
        """一个对话的各轮(已遮盖个人号码)。需要管理令牌。 / A conversation's (masked) turns; admin only."""
        denied = check_token(request)
        if denied is not None:
            return denied
        store = _store(request)
        if store is None:
            return _unavailable()
        if not is_valid_id(conversation_id):
            return _unknown("conversation")
        try:
            turns = await anyio.to_thread.run_sync(store.history, conversation_id, 200)
        except UnknownConversation:
            return _unknown("conversation")
        except ConversationStoreError as exc:
            log.error("conversation not read: %s", exc)
            return _unavailable()
        return errors.JSONBody({"conversation_id": conversation_id, "turns": [
            {"answer_id": t.answer_id, "turn": t.turn, "question": t.question, "understood_as": t.understood_as,
             "status": t.status, "cited_docs": list(t.cited_docs), "created": t.created, "rating": t.rating,
             "comment": t.comment} for t in turns]})
