"""The pool serves waiting requests first come, first served (portal/db_pool.py): a request
that arrives as a connection comes back does not take it from one already waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest
from sqlalchemy import exc
from sqlalchemy.util import greenlet_spawn

from portal.db import make_engine
from portal.db_pool import FirstComeFirstServedPool

T = TypeVar("T")


class FakeConnection:
    """What the pool needs of a driver's connection: reset on return, close at the end."""

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


def one_connection_pool(timeout: float = 5.0) -> FirstComeFirstServedPool:
    return FirstComeFirstServedPool(FakeConnection, pool_size=1, max_overflow=0, timeout=timeout)


def run(scenario: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(scenario())


async def checkout(pool: FirstComeFirstServedPool) -> Any:
    return await greenlet_spawn(pool.connect)


async def give_back(connection: Any) -> None:
    await greenlet_spawn(connection.close)


def test_a_waiting_request_is_served_before_one_that_arrives_later() -> None:
    async def scenario() -> list[str]:
        pool = one_connection_pool()
        held = await checkout(pool)
        served: list[str] = []

        async def use(name: str) -> None:
            connection = await checkout(pool)
            served.append(name)
            await asyncio.sleep(0)
            await give_back(connection)

        waiting = asyncio.create_task(use("waiting"))
        await asyncio.sleep(0.01)  # it now waits for the one connection
        await give_back(held)
        await use("arrived as it came back")  # before the waiting one has run again
        await waiting
        return served

    assert run(scenario) == ["waiting", "arrived as it came back"]


def test_every_waiter_is_served_in_order_under_a_steady_load() -> None:
    async def scenario() -> list[int]:
        pool = FirstComeFirstServedPool(FakeConnection, pool_size=2, max_overflow=0, timeout=5)
        order: list[int] = []

        async def use(number: int) -> None:
            connection = await checkout(pool)
            order.append(number)
            await asyncio.sleep(0.001)
            await give_back(connection)

        tasks = []
        for number in range(40):
            tasks.append(asyncio.create_task(use(number)))
            await asyncio.sleep(0)  # each arrives after the one before has asked
        await asyncio.gather(*tasks)
        return order

    assert run(scenario) == list(range(40))


def test_a_waiter_cancelled_just_after_the_hand_over_passes_the_connection_on() -> None:
    async def scenario() -> tuple[int, int]:
        pool = one_connection_pool()
        held = await checkout(pool)
        first = asyncio.create_task(checkout(pool))
        second = asyncio.create_task(checkout(pool))
        await asyncio.sleep(0.01)
        await give_back(held)  # handed to the first waiter, which has not run yet
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        connection = await asyncio.wait_for(second, 1)  # the second got it, nothing lost
        await give_back(connection)
        return pool.checkedin(), pool.checkedout()

    assert run(scenario) == (1, 0)


def test_a_waiter_that_times_out_gets_the_pools_error_and_leaves_the_line() -> None:
    async def scenario() -> tuple[int, int]:
        pool = one_connection_pool(timeout=0.05)
        held = await checkout(pool)
        with pytest.raises(exc.TimeoutError):
            await checkout(pool)
        await give_back(held)  # no one waits now: it goes back on the shelf
        again = await checkout(pool)
        await give_back(again)
        return pool.checkedin(), pool.checkedout()

    assert run(scenario) == (1, 0)


def test_the_portals_engines_use_it(tmp_path: Any, database_url: str) -> None:
    for url in (database_url, f"sqlite+aiosqlite:///{tmp_path / 'file.db'}"):
        engine = make_engine(url, pool_size=2)
        assert isinstance(engine.pool, FirstComeFirstServedPool)
        run(engine.dispose)
