"""No resident ID number or mobile number ever reaches the logs."""

import io
import json
import logging
from random import Random

from portal.web.redact import CREDENTIAL, ID_NUMBER, MOBILE, redact
from portal.web.request_id import JsonFormatter, RedactPersonalData

ID = "410702199003071234"


def _capture() -> tuple[logging.Logger, io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactPersonalData())
    logger = logging.getLogger("test.redact")
    logger.handlers[:] = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    return logger, stream


def test_message_args_fields_and_tracebacks_are_redacted() -> None:
    logger, stream = _capture()
    logger.info("person %s phone %s", ID, "13812345678", extra={"fields": {"id": ID, "list": [ID]}})
    try:
        raise ValueError(f"bad id {ID}")
    except ValueError:
        logger.exception("failed")
    out = stream.getvalue()
    assert ID not in out and "13812345678" not in out
    first = json.loads(out.splitlines()[0])
    assert first["message"] == "person 410***********1234 phone 138****5678"
    assert first["id"] == "410***********1234"


def test_other_numbers_are_left_alone() -> None:
    text = "order 202611220000123456789 took 1732245123456 ms, 41070219900307123"
    assert redact(text) == text
    assert redact("x41070219900307123X") == "x41070219900307123X"
    assert redact(ID[:-1] + "X") == "410***********123X"


def test_credentials_in_urls_are_redacted() -> None:
    line = (
        'GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=s3cr3t HTTP/1.1" 200 '
        "/sns/jscode2session?js_code=abc&access_token=t0k&x=1 /auth/callback?code=C0de&state=s"
    )
    assert redact(line) == (
        'GET /cgi-bin/token?grant_type=client_credential&appid=wx1&secret=*** HTTP/1.1" 200 '
        "/sns/jscode2session?js_code=***&access_token=***&x=1 /auth/callback?code=***&state=s"
    )


def _every_scan(text: str) -> str:
    """``redact`` without its shortcut: the three substitutions on every text."""
    text = CREDENTIAL.sub(r"\1=***", text)
    text = ID_NUMBER.sub(lambda m: m.group()[:3] + "*" * 11 + m.group()[-4:], text)
    return MOBILE.sub(lambda m: m.group()[:-8] + "****" + m.group()[-4:], text)


def test_the_shortcut_skips_only_texts_nothing_would_change() -> None:
    """A text without 11 digits in a row or an "=" is returned as it is; that must never
    let through what the scans would have masked."""
    pieces = [
        ID,
        ID[:-1] + "x",
        "13812345678",
        "+86 13812345678",
        "86-13912345678",
        "code=",
        "token=abc",
        "?secret=s",
        "1381234567",
        "4107021990030712",
        "１３８１２３４５６７８",
        "/applications/A8f3kd93kd9",
        "/verify/",
        "-",
        " ",
        "X",
        "=",
        "0",
        "9" * 10,
        "路",
    ]
    random = Random(20261207)
    texts = ["", "request", "/things/newborn", *pieces]
    texts += ["".join(random.choices(pieces, k=random.randint(1, 6))) for _ in range(3000)]
    for text in texts:
        assert redact(text) == _every_scan(text), text
