"""Logging: readable lines in development, one JSON object per line when configured.

A My Number must never be logged. The code never logs one; as a second line of defence, every
record passes ``MaskMyNumbers``, which masks any twelve digits standing alone that pass the My
Number check digit (in the message, its arguments and any traceback), and the formatters mask
their finished line again (a JSON record's extra fields too).
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import IO

from madoguchi.core.my_number_keys import mask_my_numbers
from madoguchi.core.settings import Settings

# uvicorn adds "color_message", the same text with terminal colour codes: not for JSON.
_STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "color_message",
}


class MaskMyNumbers(logging.Filter):
    """Masks valid My Numbers in a record's message and traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_my_numbers(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_my_numbers(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_my_numbers(record.stack_info)
        return True


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_my_numbers(super().format(record))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_my_numbers(self._json(record))

    def _json(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD_ATTRIBUTES})
        if record.exc_text:
            entry["exception"] = record.exc_text
        elif record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _AppHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler ``configure_logging`` installs; the one it replaces when called again."""


def app_handler(settings: Settings, stream: IO[str] | None = None) -> logging.Handler:
    """The handler the app logs through (to stderr unless ``stream``), with its mask."""
    handler = _AppHandler(stream)
    handler.addFilter(MaskMyNumbers())
    if settings.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    return handler


def configure_logging(settings: Settings) -> None:
    handler = app_handler(settings)
    root = logging.getLogger()
    # Only our own earlier handler is replaced: others (a test suite's watch) stay in place.
    root.handlers[:] = [h for h in root.handlers if not isinstance(h, _AppHandler)] + [handler]
    root.setLevel(settings.log_level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers[:] = []
        logging.getLogger(name).propagate = True
