"""Once a served process has started, the garbage collector leaves alone what start-up made.

A worker holds ~380,000 objects the collector tracks (the catalog, compiled templates,
modules, SQLAlchemy's metadata) that live as long as the process. Each full collection
walked all of them: one every ~1,500-2,000 signed-in pages, a pause of 150-170 ms in which no
request moved, ~100 µs a page on average (docs/performance.md, "Sixth round").
``gc.freeze()`` moves them to a generation the collector never walks; what requests make is
collected as before.

Only ``portal serve``'s workers freeze: a test process builds many apps, and what it froze
would never be freed.
"""

from __future__ import annotations

import gc

from starlette.types import ASGIApp, Message, Receive, Scope, Send


def freeze_what_start_up_made() -> None:
    gc.collect()  # what start-up left as garbage is freed, not frozen
    gc.freeze()


class FreezeAfterStartup:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return

        async def send_then_freeze(message: Message) -> None:
            if message["type"] == "lifespan.startup.complete":
                freeze_what_start_up_made()
            await send(message)

        await self.app(scope, receive, send_then_freeze)
