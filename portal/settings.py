"""Every setting of the portal, typed, read from ``PORTAL_*`` environment variables.

Each field's metadata holds its documentation; ``tests/test_settings.py`` checks that the
README documents every one of them, with its default.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RECTIFY_PERIODS = (5, 7, 15)
EVENT_LOOPS = ("asyncio", "uvloop")
DEFAULT_DATABASE_URL = f"sqlite+aiosqlite:///{PROJECT_ROOT / 'var' / 'portal.sqlite3'}"


def _doc(text: str, **kwargs: Any) -> Any:
    return field(metadata={"doc": text}, **kwargs)


@dataclass(frozen=True)
class Settings:
    database_url: str = _doc(
        "SQLAlchemy async URL; SQLite file under var/ by default, "
        "`postgresql+asyncpg://…` for PostgreSQL",
        default=DEFAULT_DATABASE_URL,
    )
    database_pool_size: int = _doc(
        "connections kept per process; up to 10 more are opened under a burst, and kept; "
        "0 disables pooling (behind PgBouncer, or tests that run several event loops)",
        default=5,
    )
    max_requests_in_flight: int = _doc(
        "requests one process serves at once; more are answered 503 (try again later, "
        "Retry-After) at once instead of queueing for a database connection; 0: no limit",
        default=100,
    )
    base_url: str = _doc(
        "public URL of the portal (scheme decides Secure cookies and HSTS); "
        "default http://HOST:PORT",
        default="",
    )
    host: str = _doc("interface `portal run`/`serve` listen on", default="127.0.0.1")
    port: int = _doc("port `portal run`/`serve` listen on", default=8000)
    secret_key: str = _doc(
        "secret for signed tokens; required when PORTAL_DEMO is off",
        default="",
    )
    demo: bool = _doc("embedded demo mode: a missing secret key is generated", default=True)
    catalog_dir: Path = _doc(  # noqa: RUF009 (a Path is immutable: safe as a default)
        "directory holding things/ and reference/ YAML",
        default=PROJECT_ROOT / "portal" / "catalog",
    )
    default_locale: str = _doc("locale when nothing else decides", default="zh_Hans")
    session_idle_minutes: int = _doc("a session unused this long ends", default=30)
    session_max_hours: int = _doc("a session ends this long after sign-in", default=12)
    session_cache_seconds: int = _doc(
        "PostgreSQL: a page may use a session row this process read up to this long ago; "
        "every change reaches every process at once (LISTEN/NOTIFY), this only bounds it "
        "should one go unheard; 0 reads every time",
        default=30,
    )
    session_cache_entries: int = _doc(
        "session rows one process keeps in memory at most (about 2 KB each)", default=10000
    )
    progress_cache_seconds: int = _doc(
        "PostgreSQL: an application page may use the rows this process read up to this long "
        "ago; every change reaches every process at once (LISTEN/NOTIFY), this only bounds "
        "it should one go unheard; 0 reads every time",
        default=30,
    )
    progress_cache_entries: int = _doc(
        "application pages one process keeps the rows of at most (about 3 KB for a new "
        "application, 0.5 KB more for each item or timeline line)",
        default=2000,
    )
    changes_url: str = _doc(
        "PostgreSQL URL each process's change listener connects to (one connection each, "
        "outside the pool); behind PgBouncer in transaction mode, the primary's own address; "
        "default PORTAL_DATABASE_URL",
        default="",
    )
    sandbox: bool = _doc(
        "mount the sandbox (identity provider, WeChat API) at /sandbox", default=True
    )
    oidc_issuer: str = _doc(
        "issuer URL of the unified identity provider (default: the sandbox's)", default=""
    )
    oidc_client_id: str = _doc(
        "client id registered at the identity provider", default="portal-demo"
    )
    oidc_client_secret: str = _doc(
        "client secret registered at the identity provider (demo value in demo mode)",
        default="",
    )
    wechat_api_base: str = _doc("WeChat API base URL (default: the sandbox's)", default="")
    wechat_appid: str = _doc("the WeChat mini-program's appid", default="wx5a1b2c3d4e5f6a7b")
    wechat_secret: str = _doc(
        "the WeChat mini-program's secret (demo value in demo mode)", default=""
    )
    licenses_api_base: str = _doc("e-license library API base (default: the sandbox's)", default="")
    registry_api_base: str = _doc(
        "enterprise registry API base (default: the sandbox's)", default=""
    )
    integrations_api_key: str = _doc(
        "bearer key for the e-license library and registry APIs (demo value in demo mode)",
        default="",
    )
    intake_api_base: str = _doc(
        "the government platform's intake API base, …/intake/v1 (default: the sandbox's)",
        default="",
    )
    intake_token_url: str = _doc(
        "OAuth 2.0 token endpoint of the intake API (default: beside the API base)", default=""
    )
    intake_client_id: str = _doc(
        "client id the platform issued to the portal", default="portal-demo"
    )
    intake_client_secret: str = _doc(
        "client secret the platform issued (demo value in demo mode)", default=""
    )
    intake_webhook_secret: str = _doc(
        "`whsec_…` secret(s) the platform signs webhooks with, space-separated during a "
        "rotation (generated in demo mode)",
        default="",
    )
    intake_timeout_seconds: float = _doc(
        "how long the relay waits for one intake API answer; one that takes longer is "
        "retried later with the same idempotency key",
        default=30.0,
    )
    sms_api_base: str = _doc("SMS gateway API base (default: the sandbox's)", default="")
    relay_in_process: bool = _doc(
        "run one relay worker inside `portal run`/`serve`; turn it off when `portal relay` "
        "workers run beside it",
        default=True,
    )
    relay_lease_seconds: int = _doc(
        "how long a relay worker holds the outbox rows it claimed; rows of a worker that died "
        "are claimed again after this",
        default=60,
    )
    sandbox_day_seconds: float = _doc(
        "how many seconds one working day lasts in the sandbox platform's simulation",
        default=5.0,
    )
    data_key: str = _doc(
        "base64 of 32 random bytes: encrypts ID numbers at rest (AES-GCM) and keys their "
        "lookup hash; required when PORTAL_DEMO is off",
        default="",
    )
    upload_dir: Path = _doc(  # noqa: RUF009 (a Path is immutable: safe as a default)
        "where uploaded materials are stored (outside the web root)",
        default=PROJECT_ROOT / "var" / "uploads",
    )
    max_upload_bytes: int = _doc("largest uploaded file", default=10 * 1024 * 1024)
    draft_days: int = _doc("drafts not touched for this many days expire", default=30)
    log_level: str = _doc("log level of the JSON logs on stderr", default="INFO")
    wallet_token_minutes: int = _doc(
        "how long a license's verification QR code (亮证) stays valid", default=5
    )
    wallet_reminder_minutes: int = _doc(
        "how often the reconciling relay sweeps the wallets for licenses expiring in 30 and 7 days",
        default=60,
    )
    redis_url: str = _doc(
        "Redis shared by every portal process (`redis://host:6379/0`): rate-limit counters, "
        "the WeChat access token, live events (assist queue, co-fill, signalling); unset: "
        "counters live in the database and live events within one process",
        default="",
    )
    sign_in_rate_limit: str = _doc(
        "sign-in starts allowed per client address, TRIES/SECONDS (an office or a mobile "
        "carrier's NAT may put many people behind one address)",
        default="30/600",
    )
    lookup_rate_limit: str = _doc(
        "progress lookups by number allowed per client address, TRIES/SECONDS (each guesses "
        "6 characters of an ID number)",
        default="10/600",
    )
    forwarded_allow_ips: str = _doc(
        "comma-separated addresses of the load balancers whose X-Forwarded-For/-Proto "
        "headers are trusted (`*` for any); the client address decides rate limits",
        default="127.0.0.1",
    )
    event_loop: str = _doc(
        "`portal serve`'s event loop: `asyncio` (Python's own) or `uvloop`; uvloop starts "
        "newly read requests ahead of finishing earlier ones, so under load a few requests "
        "waited seconds (docs/performance.md, seventh round)",
        default="asyncio",
    )
    socket_per_worker: bool = _doc(
        "`portal serve --workers N` on Linux: each worker accepts on a listening socket of "
        "its own (SO_REUSEPORT), so connections are spread evenly over the workers; false: "
        "one shared socket, where a burst of keep-alive connections may all land in one "
        "worker (docs/performance.md, eleventh round)",
        default=True,
    )
    max_body_bytes: int = _doc(
        "largest form body read for the CSRF check (bigger ones are refused)",
        default=20 * 1024 * 1024,
    )
    rating_rectify_days: int = _doc(
        "working days from a bad rating (差评) to its rectification deadline: 5, 7 or 15, "
        "as the locality rules",
        default=15,
    )

    def __post_init__(self) -> None:
        if self.rating_rectify_days not in RECTIFY_PERIODS:
            raise ValueError("PORTAL_RATING_RECTIFY_DAYS: expected 5, 7 or 15")
        if self.event_loop not in EVENT_LOOPS:
            raise ValueError("PORTAL_EVENT_LOOP: expected asyncio or uvloop")

    assist_ice_urls: str = _doc(
        "STUN/TURN URLs given to the video calls' browsers, space-separated "
        "(`stun:turn.example.org:3478 turn:turn.example.org:3478?transport=udp`); unset: "
        "direct connections only (same network)",
        default="",
    )
    assist_turn_secret: str = _doc(
        "coturn's `static-auth-secret`: TURN URLs get short-lived credentials made from it",
        default="",
    )
    assist_slot_capacity: int = _doc(
        "how many citizens the assistants can see in one booking slot (30 minutes)", default=2
    )
    assist_booking_days: int = _doc("how many working days ahead slots can be booked", default=5)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"PORTAL_{f.name.upper()}")
            if raw is not None:
                values[f.name] = _cast(f.default, raw, f.name)
        values.update(overrides)
        if not values.get("base_url"):
            # The sandbox's issuer and redirect URIs derive from it: follow the port served.
            host = values.get("host", "127.0.0.1")
            values["base_url"] = f"http://{host}:{values.get('port', 8000)}"
        settings = cls(**values)
        missing = [name for name in _SECRETS if not getattr(settings, name)]
        if missing and not settings.demo:
            names = ", ".join(f"PORTAL_{name.upper()}" for name in missing)
            raise ValueError(f"{names} required when PORTAL_DEMO is off")
        # A fresh secret per process would break multi-worker demos; keep them on disk.
        return cls(**{**values, **{name: _SECRETS[name]() for name in missing}})

    @property
    def oidc_issuer_url(self) -> str:
        return self.oidc_issuer or f"{self.base_url}/sandbox/idp"

    @property
    def wechat_api_url(self) -> str:
        return self.wechat_api_base or f"{self.base_url}/sandbox/wechat"

    @property
    def licenses_api_url(self) -> str:
        return self.licenses_api_base or f"{self.base_url}/sandbox/licenses/api/v1"

    @property
    def registry_api_url(self) -> str:
        return self.registry_api_base or f"{self.base_url}/sandbox/registry/api/v1"

    @property
    def intake_api_url(self) -> str:
        return (self.intake_api_base or f"{self.base_url}/sandbox/intake/v1").rstrip("/")

    @property
    def intake_token_endpoint(self) -> str:
        return self.intake_token_url or self.intake_api_url.removesuffix("/v1") + "/oauth2/token"

    @property
    def intake_webhook_secrets(self) -> tuple[str, ...]:
        return tuple(self.intake_webhook_secret.split())

    @property
    def intake_files_url(self) -> str:
        """Where the platform fetches uploaded files by capability URL (`/intake-files/…`)."""
        return f"{self.base_url}/intake-files"

    @property
    def sms_api_url(self) -> str:
        return self.sms_api_base or f"{self.base_url}/sandbox/sms/api/v1"

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def _cast(default: Any, raw: str, name: str) -> Any:
    if isinstance(default, bool):
        if raw.lower() not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
            raise ValueError(f"PORTAL_{name.upper()}: expected a boolean, got {raw!r}")
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"PORTAL_{name.upper()}: expected a number, got {raw!r}") from None
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"PORTAL_{name.upper()}: expected an integer, got {raw!r}") from None
    if isinstance(default, Path):
        return Path(raw)
    return raw


def _demo_file(name: str, make: Callable[[], str]) -> str:
    path = PROJECT_ROOT / "var" / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        value = make()
        path.write_text(value)
        path.chmod(0o600)
        return value


# Secrets the demo may make up (kept in var/ so every worker agrees); required otherwise.
_SECRETS: dict[str, Callable[[], str]] = {
    "secret_key": lambda: _demo_file("demo-secret-key", lambda: secrets.token_urlsafe(48)),
    "data_key": lambda: _demo_file(
        "demo-data-key", lambda: base64.b64encode(secrets.token_bytes(32)).decode()
    ),
    "oidc_client_secret": lambda: "portal-demo-secret",
    "wechat_secret": lambda: "sandbox-wechat-secret",
    "integrations_api_key": lambda: "sandbox-api-key",
    "intake_client_secret": lambda: "sandbox-intake-secret",
    "intake_webhook_secret": lambda: _demo_file(
        "demo-webhook-secret",
        lambda: "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode(),
    ),
}


def documented_settings() -> list[tuple[str, Any, str]]:
    """(environment variable, default, documentation) for every setting."""
    return [(f"PORTAL_{f.name.upper()}", f.default, f.metadata["doc"]) for f in fields(Settings)]
