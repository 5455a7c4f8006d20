"""The hybrid retriever as a LangChain ``BaseRetriever``, so it can be dropped into a chain."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict, Field

from .service import QAService


class YibaoRetriever(BaseRetriever):
    """``YibaoRetriever(service=QAService.load(), k=5).invoke("医保断缴怎么补缴")``.

    Each Document's ``page_content`` is the chunk text; ``metadata`` carries doc_id,
    chunk_id, title, heading, start/end offsets into the cleaned document, and the score.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    service: QAService
    k: int = Field(default=5, ge=1, le=100)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun,
                                **kwargs: Any) -> list[Document]:
        return [
            Document(page_content=h.text, metadata={"doc_id": h.doc_id, "chunk_id": h.chunk_id, "title": h.title,
                                                    "heading": h.heading, "start": h.start, "end": h.end,
                                                    "score": h.score})
            for h in self.service.search(query, kwargs.get("k", self.k))
        ]
