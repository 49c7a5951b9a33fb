"""Which exceptions mean "the database cannot be reached just now" (down, restarting, a
connection cut, SQLite busy past its timeout) rather than a bug: pages answer those with
503 and the plain "try again later" page, not a 500; retrying later will work."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

# asyncpg's own errors for a server that is shutting down, starting up or gone, by name:
# asyncpg is only installed where PostgreSQL is used.
UNAVAILABLE_NAMES = frozenset(
    {
        "AdminShutdownError",
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "CrashShutdownError",
        # "another operation is in progress": the connection was cut half-way through an
        # answer (a server stopping sends its error before it closes the socket) and the
        # driver still waits for the rest; seen as a 500 in the PostgreSQL restart test.
        "InternalClientError",
        "InterfaceError",
        "PostgresConnectionError",
        "TooManyConnectionsError",
    }
)


def database_unavailable(exc: BaseException) -> bool:
    """True when ``exc``, or what caused it, says the database is out of reach."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if _unavailable(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _unavailable(exc: BaseException) -> bool:
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, OperationalError | InterfaceError | PoolTimeout | ConnectionError):
        return True
    return type(exc).__name__ in UNAVAILABLE_NAMES and type(exc).__module__.startswith("asyncpg")
