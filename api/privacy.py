"""Log masking for the API: personal numbers are removed from log records.

The masking itself (:func:`mask_pii` and its placeholders) lives in :mod:`qa.privacy`, shared with
the conversation store; it is re-exported here so ``api.privacy.mask_pii`` keeps working.
"""

from __future__ import annotations

import logging

from qa.privacy import CARD_MASK, ID_MASK, PHONE_MASK, mask_pii

__all__ = ["CARD_MASK", "ID_MASK", "PHONE_MASK", "MaskingFilter", "install_log_masking", "mask_pii"]


class MaskingFilter(logging.Filter):
    """Masks personal numbers in log records' arguments and message (uvicorn's access log
    writes the request path and query string, where people sometimes paste them)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(mask_pii(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: mask_pii(v) if isinstance(v, str) else v for k, v in record.args.items()}
        if isinstance(record.msg, str):
            record.msg = mask_pii(record.msg)
        return True


def install_log_masking(names: tuple[str, ...] = ("uvicorn.access", "uvicorn.error", "yibao")) -> None:
    """Idempotent: attach one MaskingFilter to each named logger."""
    for name in names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskingFilter) for f in logger.filters):
            logger.addFilter(MaskingFilter())
