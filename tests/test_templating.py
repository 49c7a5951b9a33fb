"""The base template context is a small documented set; this keeps docs and code together."""

import re

from starlette.requests import Request

from portal import templating
from portal.templating import Templates


def test_base_context_is_exactly_what_the_docstring_documents() -> None:
    documented = set(re.findall(r"^``(\w+)``", templating.__doc__ or "", re.MULTILINE))
    request = Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/",
            "headers": [],
            "query_string": b"",
            "server": ("testserver", 80),
            "scheme": "http",
        }
    )
    context = Templates().base_context(request)
    env_globals = {"t", "static_url"}
    assert documented == set(context) | env_globals


def test_static_url_carries_a_content_hash() -> None:
    assert re.fullmatch(
        r"/static/css/portal\.css\?v=[0-9a-f]{12}", templating.static_url("css/portal.css")
    )
