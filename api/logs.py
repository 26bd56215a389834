"""What the server writes to its own log holds no personal data: no ``citizen_ref``, ``case_ref`` or
``purpose`` value (and no other value a client may have typed), since erasure never reaches a log file.

``RedactingFilter`` sits on every handler of ``log_config()``, the logging configuration
``caseledger serve``, its API processes (``api.supervisor``) and ``caseledger projections run`` use.
It rewrites each record before it is formatted:

- uvicorn's access line (``"GET /audit/access-log?citizen_ref=B-1 HTTP/1.1" 200``): every query value
  becomes ``***`` except those of ``KEPT_QUERY_VALUES``, parameters that never carry personal data
  (page, dates, positions, ids); the parameter names stay, so the line still says what was asked.
- any other message, and the traceback of a logged exception: a query string in it is redacted the
  same way; ``citizen_ref``/``case_ref``/``purpose`` followed by ``=`` or ``:`` has its value
  masked (a dict or JSON body in an exception message); pydantic's ``input_value=…`` (a validation
  error quotes the input it refused) is masked whatever the field.

Only the stdlib and uvicorn are imported: the supervisor, which serves no request, imports this too.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

from uvicorn.config import LOGGING_CONFIG

MASK = "***"
SENSITIVE = ("citizen_ref", "case_ref", "purpose")
KEPT_QUERY_VALUES = frozenset(
    {
        "above_list_rate",
        "action",
        "after",
        "as_of",
        "by",
        "expect",
        "from",
        "intervention",
        "legal_basis",
        "limit",
        "min_position",
        "municipality",
        "page",
        "page_size",
        "referral",
        "referral_id",
        "role",
        "status",
        "supplier_id",
        "to",
        "type",
        "unit",
        "version",
    }
)
"""Query parameters whose values are kept in log lines: none of them carries personal data."""

_QUERY = re.compile(r"(?<=[\w/])\?([^\s\"'<>]*)")
_NAMES = "|".join(SENSITIVE)
# citizen_ref=B-1 / "purpose": "..." / 'case_ref': '...' / purpose: text up to the end of the line
_KEYED = re.compile(
    rf"""(?P<key>["']?\b(?:{_NAMES})\b["']?)(?P<sep>\s*[=:]\s*)"""
    r"""(?P<value>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|[^\s,;&}\]]+)"""
)
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=|\]$|$)", re.MULTILINE)


def redact_query(query: str) -> str:
    """A query string with every value but those of ``KEPT_QUERY_VALUES`` replaced by ``***``."""
    pairs = []
    for pair in query.split("&"):
        name, equals, _ = pair.partition("=")
        masked = equals and unquote_plus(name) not in KEPT_QUERY_VALUES
        pairs.append(f"{name}={MASK}" if masked else pair)
    return "&".join(pairs)


def redact_target(target: str) -> str:
    """A request target (path and query) with its query redacted."""
    path, question, query = target.partition("?")
    return f"{path}?{redact_query(query)}" if question else path


def redact_text(text: str) -> str:
    """Free text (a message, a traceback) with query strings, named personal values and pydantic's
    quoted inputs masked."""
    text = _QUERY.sub(lambda m: "?" + redact_query(m.group(1)), text)
    text = _KEYED.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}", text)
    return _INPUT_VALUE.sub(f"input_value={MASK}", text)


class RedactingFilter(logging.Filter):
    """Masks personal data in every record it passes (see the module's docstring); drops none."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            # uvicorn's AccessFormatter unpacks (client, method, target, http version, status).
            client, method, target, version, status = record.args
            record.args = (client, method, redact_target(str(target)), version, status)
            return True
        try:
            message = record.getMessage()
        except Exception:  # its handler would print the arguments as they are
            message = f"(a message of {record.name} that could not be formatted; withheld)"
            record.msg, record.args = message, None
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
            record.__dict__.pop("color_message", None)  # uvicorn's coloured copy of the message
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``RedactingFilter`` on each handler, and the warnings
    and errors of every other logger (caseledger's, the libraries') written through the same
    filtered handler to standard error (they went to ``logging.lastResort``, unfiltered)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["filters"] = {"redact": {"()": "api.logs.RedactingFilter"}}
    for handler in config["handlers"].values():
        handler["filters"] = ["redact"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
