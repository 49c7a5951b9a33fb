"""Server-side sessions: the cookie holds only a random token, the data lives in the database.

Logging out deletes the row, so a session really ends. Only a hash of the token is stored,
and the data is sealed (AES-GCM, ``PORTAL_DATA_KEY``) when the app gives a cipher: it holds the
identity provider's id_token, whose claims name the person.
A session ends after ``idle`` without use or ``lifetime`` after it began. Rows are written
only when the data changed, or at most once a minute to record use, so reading pages costs
no write.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import DateTime, String, Text, delete, select
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.crypto import PersonalDataCipher
from portal import clock
from portal.db import Base
from portal.web.cookies import cookie_name, read_cookie, set_cookie

TOUCH_EVERY = timedelta(minutes=1)
SEALED = "sealed:"
PURPOSE = "web_session.data"


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class SessionData(dict[str, Any]):
    """A dict that knows whether it changed and whether its id must be rotated."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.modified = False
        self.rotate_requested = False

    def __setitem__(self, key: str, value: Any) -> None:
        self.modified = True
        super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        self.modified = True
        super().__delitem__(key)

    def clear(self) -> None:
        self.modified = True
        super().clear()

    def pop(self, key: str, *default: Any) -> Any:
        self.modified = self.modified or key in self
        return super().pop(key, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self.modified = True
        super().update(*args, **kwargs)

    def rotate(self) -> None:
        """Give the session a new token (at sign-in), keeping its data."""
        self.rotate_requested = True
        self.modified = True


def rotate(session: dict[str, Any]) -> None:
    """Ask for a new session token at the end of this request (sign-in)."""
    if not isinstance(session, SessionData):
        raise TypeError("the session is not managed by portal.web.sessions")
    session.rotate()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class SessionMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        sessionmaker: async_sessionmaker[Any],
        https: bool,
        idle: timedelta,
        lifetime: timedelta,
        cipher: PersonalDataCipher | None = None,
    ) -> None:
        self.app = app
        self.cipher = cipher
        self.sessionmaker = sessionmaker
        self.https = https
        self.cookie = cookie_name("session", https)
        self.idle = idle
        self.lifetime = lifetime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        raw_cookie = dict(scope["headers"]).get(b"cookie", b"").decode("latin-1")
        token = read_cookie(raw_cookie, self.cookie)
        row = await self._load(token) if token else None
        session = SessionData(self._open(row.data) if row else {})
        session.modified = False
        scope["session"] = session

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._save(message, token, row, session)
            await send(message)

        await self.app(scope, receive, send_with_session)

    def _seal(self, session: SessionData) -> str:
        plain = json.dumps(session)
        if self.cipher is None:
            return plain
        return SEALED + base64.b64encode(self.cipher.encrypt(plain, PURPOSE)).decode()

    def _open(self, stored: str) -> dict[str, Any]:
        if stored.startswith(SEALED):
            if self.cipher is None:
                return {}  # sealed by a process with a key this one lacks: start afresh
            try:
                stored = self.cipher.decrypt(base64.b64decode(stored[len(SEALED) :]), PURPOSE)
            except (ValueError, InvalidTag):  # another data key: the session cannot be read
                return {}
        data: dict[str, Any] = json.loads(stored)
        return data

    async def _load(self, token: str) -> WebSession | None:
        async with self.sessionmaker() as db:
            row: WebSession | None = await db.get(WebSession, _hash(token))
            if row is None:
                return None
            now = clock.now()
            if (
                now - clock.aware(row.last_seen_at) > self.idle
                or now - clock.aware(row.created_at) > self.lifetime
            ):
                await db.delete(row)
                await db.commit()
                return None
            return row

    async def _save(
        self, message: Message, token: str | None, row: WebSession | None, session: SessionData
    ) -> None:
        headers = MutableHeaders(scope=message)
        now = clock.now()
        async with self.sessionmaker() as db:
            if row is not None and (not session or session.rotate_requested):
                await db.execute(delete(WebSession).where(WebSession.token_hash == row.token_hash))
            if not session:
                await db.commit()
                if token:
                    set_cookie(headers, self.cookie, "", https=self.https, max_age=0)
                return
            if row is None or session.rotate_requested:
                # A new token starts a new lifetime: rotation happens at sign-in.
                token = secrets.token_urlsafe(32)
                db.add(
                    WebSession(
                        token_hash=_hash(token),
                        data=self._seal(session),
                        created_at=now,
                        last_seen_at=now,
                    )
                )
                set_cookie(headers, self.cookie, token, https=self.https)
            elif session.modified or now - clock.aware(row.last_seen_at) > TOUCH_EVERY:
                stored = await db.get(WebSession, row.token_hash)
                if stored is not None:
                    stored.data = self._seal(session)
                    stored.last_seen_at = now
            await db.commit()


async def purge_expired(sessionmaker: async_sessionmaker[Any], idle: timedelta) -> int:
    """Delete sessions idle for longer than ``idle``; returns how many."""
    async with sessionmaker() as db:
        result = await db.execute(
            select(WebSession.token_hash).where(WebSession.last_seen_at < clock.now() - idle)
        )
        hashes = list(result.scalars())
        if hashes:
            await db.execute(delete(WebSession).where(WebSession.token_hash.in_(hashes)))
            await db.commit()
        return len(hashes)
