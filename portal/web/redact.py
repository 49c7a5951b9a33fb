"""A logging filter that guarantees no resident ID number, mobile number or credential in a
URL reaches the logs.

It rewrites every record's message (after %-formatting) and its structured fields, so a
careless ``log.info("person %s", id_number)`` anywhere still logs a mask.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# 18-character resident IDs (17 digits + digit/X) and mainland mobiles, not inside longer
# digit runs (order numbers, timestamps).
ID_NUMBER = re.compile(
    r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?![0-9A-Za-z])"
)
MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)")
# Credentials some APIs take in the query string (WeChat: ?appid=…&secret=…, ?access_token=…;
# OAuth: ?code=…), as HTTP libraries log them at DEBUG level.
CREDENTIAL = re.compile(
    r"(?i)\b((?:client_)?secret|access_token|refresh_token|id_token|js_code|code|password|token)"
    r"=[^&\s\"'<>]+"
)


# Every match above holds a run of 11 digits (a mobile; an ID number holds 17) or an "=": a
# text with neither, as most access-log paths are, needs none of the three scans.
MIGHT_MATCH = re.compile(r"\d{11}|=")


def redact(text: str) -> str:
    if not MIGHT_MATCH.search(text):
        return text
    text = CREDENTIAL.sub(r"\1=***", text)
    text = ID_NUMBER.sub(lambda m: m.group()[:3] + "*" * 11 + m.group()[-4:], text)
    return MOBILE.sub(lambda m: m.group()[:-8] + "****" + m.group()[-4:], text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_redact_value(v) for v in value)
    return value


class RedactPersonalData(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if hasattr(record, "fields"):
            record.fields = _redact_value(record.fields)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True
