"""The session's WebSocket: signalling for the WebRTC call, chat, and "look again" events
(queue moved, proposal made or decided, consent changed, call ended).

Only the session's citizen and its assistant get in: the socket carries the portal's
session cookie (the session middleware reads it for ``websocket`` scopes too), and a
cross-site ``Origin`` is refused before the handshake completes, since browsers send
cookies with cross-site WebSocket requests and CSRF tokens do not apply to them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any

from starlette.requests import HTTPConnection
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from auth.actor import Actor
from portal import clock
from portal.assist import services
from portal.assist.hub import QUEUE_CHANNEL, Hub, session_channel
from portal.web import appstate

log = logging.getLogger(__name__)
MAX_MESSAGE = 64 * 1024  # an SDP offer is a few KB
FORBIDDEN = 4403
NOT_FOUND = 4404
GONE = 4410


def hub(connection: HTTPConnection) -> Hub:
    value: Hub = connection.app.state.assist_hub
    return value


def actor_of(connection: HTTPConnection) -> Actor | None:
    actor: Actor | None = connection.scope.get("state", {}).get("actor")
    return actor


def same_origin(websocket: WebSocket) -> bool:
    origin = websocket.headers.get("origin", "")
    host = websocket.headers.get("host", "")
    scheme, _, netloc = origin.partition("://")
    return bool(origin) and scheme in ("http", "https") and netloc == host


async def publish(connection: HTTPConnection, public_id: str, event: dict[str, Any]) -> None:
    await hub(connection).publish(session_channel(public_id), event)


async def queue_moved(connection: HTTPConnection) -> None:
    await hub(connection).publish(QUEUE_CHANNEL, {"type": "queue"})


async def session_socket(websocket: WebSocket) -> None:
    if not same_origin(websocket):
        await websocket.close(code=FORBIDDEN)
        return
    public_id = websocket.path_params["session"]
    actor = actor_of(websocket)
    async with appstate.database(websocket)() as db:
        found = await services.session_for(db, public_id, actor)
    if found is None or found[0].status == "ended":
        await websocket.close(code=NOT_FOUND)
        return
    session, role = found
    await websocket.accept()
    me = secrets.token_hex(8)
    channels = [session_channel(public_id)]
    if session.status == "waiting":
        channels.append(QUEUE_CHANNEL)
    async with hub(websocket).subscribe(*channels) as events:
        await websocket.send_json({"type": "ready", "role": role, "status": session.status})
        forward = asyncio.create_task(_forward(websocket, events, role, me))
        try:
            await _receive(websocket, public_id, role, me)
        except WebSocketDisconnect:
            pass
        finally:
            forward.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await forward


async def _forward(websocket: WebSocket, events: Any, role: str, me: str) -> None:
    async for event in events:
        if event.get("conn") == me or event.get("to") not in (None, role):
            continue
        await websocket.send_json({k: v for k, v in event.items() if k != "conn"})
        if event.get("type") == "ended":
            await websocket.close(code=GONE)
            return


async def _receive(websocket: WebSocket, public_id: str, role: str, me: str) -> None:
    other = "assistant" if role == "citizen" else "citizen"
    while True:
        message = await websocket.receive_json()
        if not isinstance(message, dict) or len(str(message)) > MAX_MESSAGE:
            continue
        kind = message.get("type")
        if kind in ("signal", "hello"):
            await publish(
                websocket,
                public_id,
                {
                    "type": kind,
                    "from": role,
                    "to": other,
                    "conn": me,
                    "data": message.get("data"),
                    "reply": bool(message.get("reply")),
                },
            )
        elif kind == "chat":
            await _chat(websocket, public_id, role, str(message.get("text", "")))
        elif kind == "media" and message.get("mode") in ("video", "audio", "chat"):
            await _media(websocket, public_id, role, str(message["mode"]))


async def _chat(websocket: WebSocket, public_id: str, role: str, text: str) -> None:
    problem = services.chat_problem(text)
    if problem:
        await websocket.send_json({"type": "error", "code": problem})
        return
    async with appstate.database(websocket)() as db:
        found = await services.session_for(db, public_id, actor_of(websocket))
        if found is None or found[0].status != "active":
            await websocket.send_json({"type": "error", "code": "session_not_active"})
            return
        line = await services.add_chat(db, found[0], role, text)
    await publish(websocket, public_id, chat_event(role, text, line.sent_at))


def chat_event(role: str, text: str, at: Any) -> dict[str, Any]:
    return {
        "type": "chat",
        "from": role,
        "text": text.strip(),
        "at": clock.china(at).strftime("%H:%M"),
    }


async def _media(websocket: WebSocket, public_id: str, role: str, mode: str) -> None:
    if role == "citizen":
        async with appstate.database(websocket)() as db:
            found = await services.session_for(db, public_id, actor_of(websocket))
            if found is not None:
                found[0].media = mode
                await db.commit()
    await publish(websocket, public_id, {"type": "media", "from": role, "mode": mode})


routes = [WebSocketRoute("/assist/ws/{session:str}", session_socket, name="assist_socket")]
