"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import asyncio
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import portal.models  # noqa: F401 (every table mapped)
from portal.db import Base, make_engine


def test_migrations_match_the_models(database_url: str) -> None:
    async def differences() -> list[Any]:
        engine = make_engine(database_url, 0)
        async with engine.connect() as connection:
            found: list[Any] = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        await engine.dispose()
        return found

    assert asyncio.run(differences()) == []
