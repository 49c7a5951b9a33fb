"""Authlib's view of a Starlette request: the piece of glue Authlib ships for Flask
(``flask_oauth2/requests.py``) but not for Starlette.

Authlib is synchronous and Starlette reads bodies asynchronously, so the wrapper is built
after the form has been read, and everything Authlib asks for is already at hand.
"""

# Authlib ships no type information; its classes are subclassed as they are meant to be.
# mypy: disable-error-code="import-untyped, misc"

from __future__ import annotations

from collections import defaultdict

from authlib.oauth2.rfc6749 import OAuth2Payload, OAuth2Request
from starlette.datastructures import FormData, ImmutableMultiDict
from starlette.requests import Request


async def read_oauth_request(request: Request) -> StarletteOAuth2Request:
    """Raises Authlib's ``InsecureTransportError`` for plain HTTP off loopback."""
    form = await request.form() if request.method == "POST" else FormData()
    return StarletteOAuth2Request(request, form)


class _Payload(OAuth2Payload):
    def __init__(self, data: ImmutableMultiDict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> ImmutableMultiDict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        values: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in self._data.multi_items():
            values[key].append(value)
        return values


class StarletteOAuth2Request(OAuth2Request):
    """Authlib's view of one HTTP request. ``headers`` is Starlette's own (case-insensitive)
    object, which ``client_secret_basic`` needs; the payload is query and form together, as
    Flask's ``request.values`` is for Authlib's Flask glue."""

    def __init__(self, request: Request, form: FormData) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = request.query_params
        self._form = ImmutableMultiDict(
            [(key, value) for key, value in form.multi_items() if isinstance(value, str)]
        )
        self.payload = _Payload(
            ImmutableMultiDict([*self._args.multi_items(), *self._form.multi_items()])
        )

    @property
    def args(self) -> ImmutableMultiDict[str, str]:
        return self._args

    @property
    def form(self) -> ImmutableMultiDict[str, str]:
        return self._form
