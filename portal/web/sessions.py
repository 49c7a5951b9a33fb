"""Server-side sessions: the cookie holds only a random token, the data lives in the database.

Logging out deletes the row, so a session really ends. Only a hash of the token is stored,
and the data is sealed (AES-GCM, ``PORTAL_DATA_KEY``) when the app gives a cipher: it holds the
identity provider's id_token, whose claims name the person.
A session ends after ``idle`` without use or ``lifetime`` after it began. Rows are written
only when the data changed, or at most once a minute to record use, so reading pages costs
no write. Given a ``SessionCache`` (PostgreSQL, portal.web.session_cache), a page (GET, HEAD)
takes a row this process read lately instead of reading it again; every other request reads
the database, so a change of state always acts on the session as it is.

The cookie is ``<token>.<version>``: the version goes up each time the data changes, and a
kept row serves only the version it was read for. So the page a browser is sent to after a
change (post, redirect, get) never shows the session as it was before, whichever process
serves it and however late that process hears of the change. The version is no secret:
naming another one only makes the process read the database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidTag
from sqlalchemy import (
    DateTime,
    Integer,
    String,
    Text,
    bindparam,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnElement, FromClause
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth.crypto import PersonalDataCipher
from portal import clock
from portal.db import Base
from portal.db_reads import reading
from portal.web.cookies import cookie_name, request_cookie, set_cookie
from portal.web.session_cache import SessionCache

TOUCH_EVERY = timedelta(minutes=1)
# Requests that may be served a session row from the cache: they change nothing.
CACHED_METHODS = frozenset({"GET", "HEAD"})
SEALED = "sealed:"
PURPOSE = "web_session.data"


class WebSession(Base):
    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The signed-in person (the data's "person_id"), kept in clear so the person's row is
    # read in the same statement as the session's; no foreign key: a deleted person's
    # sessions end when next read.
    person_id: Mapped[int | None] = mapped_column(Integer)


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


def _cookie_value(token: str, version: int) -> str:
    return f"{token}.{version}" if version else token


def _token_and_version(value: str | None) -> tuple[str | None, int]:
    """The cookie's token and data version (0 when it has none: a new session)."""
    if not value:
        return None, 0
    token, _, version = value.partition(".")  # "." is not in a token_urlsafe token
    return token, int(version) if version.isdigit() and len(version) < 10 else 0


Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection]]


@dataclass(frozen=True)
class Loader:
    """A read made with the session row before the app runs (the signed-in actor): no
    statement of its own and no ORM per request.

    ``columns`` of ``joined`` (a table outer-joined on its ``id`` = the session's person) come
    back in the session row's statement; ``load`` gets them (None without a row), a way to
    open a connection (None when the session holds nothing) for any further read, the scope
    and the session.
    """

    load: Callable[[Connect | None, Scope, SessionData, Sequence[Any] | None], Awaitable[None]]
    joined: FromClause | None = None
    columns: tuple[ColumnElement[Any], ...] = ()


@dataclass(frozen=True)
class _Stored:
    token_hash: str
    data: str
    created_at: datetime
    last_seen_at: datetime


_OWN_COLUMNS = 4  # data, created_at, last_seen_at, person_id; then the loaders'


def _read_statement(loaders: Sequence[Loader]) -> Any:
    columns = [
        WebSession.data,
        WebSession.created_at,
        WebSession.last_seen_at,
        WebSession.person_id,
    ]
    statement = select(*columns, *(c for loader in loaders for c in loader.columns))
    source: FromClause = WebSession.__table__
    for loader in loaders:
        if loader.joined is not None:
            source = source.outerjoin(loader.joined, loader.joined.c.id == WebSession.person_id)
    return statement.select_from(source)


def _person_of(session: SessionData) -> int | None:
    person = session.get("person_id")
    return person if isinstance(person, int) else None


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
        loaders: Sequence[Loader] = (),
        cache: SessionCache | None = None,
        reads: Callable[[str], None] | None = None,
    ) -> None:
        self.app = app
        self.cipher = cipher
        self.engine: AsyncEngine = sessionmaker.kw["bind"]
        self.https = https
        self.cookie = cookie_name("session", https)
        self.idle = idle
        self.lifetime = lifetime
        self.loaders = tuple(loaders)
        self.cache = cache
        self.reads = reads  # told "cache" or "database" for each signed-in read (metrics)
        # Built once: building the statement per request showed in a loaded worker's profile.
        self.read = _read_statement(self.loaders).where(
            WebSession.token_hash == bindparam("token_hash")
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        token, version = _token_and_version(request_cookie(scope, self.cookie))
        row, session = await self._load(token, version, scope) if token else (None, SessionData())
        if not token:
            scope["session"] = session
            for loader in self.loaders:
                await loader.load(None, scope, session, None)

        async def send_with_session(message: Message) -> None:
            if message["type"] == "http.response.start":
                await self._save(message, token, version, row, session)
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

    async def _read(self, token_hash: str, version: int, scope: Scope) -> Any | None:
        """The session's row with the loaders' columns: from the cache for a page, else one
        read (db_reads), kept for later pages of this version of the data."""
        cache = self.cache
        if cache is not None and scope.get("method") in CACHED_METHODS:
            found = cache.row(token_hash, version)
            if found is not None:
                if self.reads is not None:
                    self.reads("cache")
                return found
        generation = cache.generation if cache is not None else 0
        async with reading(self.engine) as db:
            found = await db.first(self.read, {"token_hash": token_hash})
        if self.reads is not None:
            self.reads("database")
        if found is not None and cache is not None:
            cache.keep(token_hash, version, found, found[3], generation)
        return found

    def _forget(self, token_hash: str) -> None:
        """After a write to the row: this process's next read sees it (others are told by
        the database)."""
        if self.cache is not None:
            self.cache.forget(token_hash)

    async def _load(
        self, token: str, version: int, scope: Scope
    ) -> tuple[_Stored | None, SessionData]:
        """The row and its data, then every loader's."""
        token_hash = _hash(token)
        found = await self._read(token_hash, version, scope)
        row = None if found is None else _Stored(token_hash, *found[:3])
        now = clock.now()
        if row is not None and (
            now - clock.aware(row.last_seen_at) > self.idle
            or now - clock.aware(row.created_at) > self.lifetime
        ):
            async with self.engine.begin() as write:
                await write.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
            self._forget(token_hash)
            row = None
        session = SessionData(self._open(row.data) if row else {})
        session.modified = False
        scope["session"] = session
        at = _OWN_COLUMNS
        for loader in self.loaders:
            joined = None
            if row is not None and found is not None and loader.columns:
                joined = found[at : at + len(loader.columns)]
            at += len(loader.columns)
            await loader.load(self.engine.connect if session else None, scope, session, joined)
        return row, session

    async def _save(
        self,
        message: Message,
        token: str | None,
        version: int,
        row: _Stored | None,
        session: SessionData,
    ) -> None:
        headers = MutableHeaders(scope=message)
        now = clock.now()
        if not session:
            if row is not None:
                async with self.engine.begin() as db:
                    await db.execute(
                        delete(WebSession).where(WebSession.token_hash == row.token_hash)
                    )
                self._forget(row.token_hash)
            if token:
                set_cookie(headers, self.cookie, "", https=self.https, max_age=0)
            return
        if row is None or session.rotate_requested:
            # A new token starts a new lifetime: rotation happens at sign-in.
            new_token = secrets.token_urlsafe(32)
            async with self.engine.begin() as db:
                if row is not None:
                    await db.execute(
                        delete(WebSession).where(WebSession.token_hash == row.token_hash)
                    )
                await db.execute(
                    insert(WebSession).values(
                        token_hash=_hash(new_token),
                        data=self._seal(session),
                        created_at=now,
                        last_seen_at=now,
                        person_id=_person_of(session),
                    )
                )
            if row is not None:
                self._forget(row.token_hash)
            set_cookie(headers, self.cookie, new_token, https=self.https)
        elif session.modified or now - clock.aware(row.last_seen_at) > TOUCH_EVERY:
            async with self.engine.begin() as db:
                await db.execute(
                    update(WebSession)
                    .where(WebSession.token_hash == row.token_hash)
                    .values(
                        data=self._seal(session), last_seen_at=now, person_id=_person_of(session)
                    )
                )
            self._forget(row.token_hash)
            if session.modified and token:
                set_cookie(
                    headers, self.cookie, _cookie_value(token, version + 1), https=self.https
                )


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
