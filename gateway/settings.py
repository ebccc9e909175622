"""Settings from the environment (a ``.env`` file is read too). Unset means the embedded default."""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from auth.accounts import MAX_CACHE_SECONDS
from auth.throttle import parse_limit

VAR_DIR = Path(os.environ.get("GATEWAY_VAR_DIR", "var"))


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value is not None else default


def _seconds(name: str, default: float, most: float) -> float:
    """Seconds from 0 to ``most``; anything else stops the start, saying what is wrong."""
    text = _env(name)
    try:
        value = float(text) if text is not None else default
    except ValueError:
        value = -1.0
    if not 0 <= value <= most:  # NaN fails this too
        raise SystemExit(f"{name} must be a number of seconds from 0 to {most:g}, got {text!r}")
    return value


def _whole(name: str, default: int, unit: str) -> int:
    """A whole number of ``unit``, at least 1; anything else stops the start, saying what is wrong."""
    text = _env(name)
    try:
        value = int(text) if text is not None else default
    except ValueError:
        value = 0
    if value < 1:
        raise SystemExit(f"{name} must be a whole number of {unit}, 1 or more, got {text!r}")
    return value


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """``a=url,b=url`` → ((a, url), (b, url))."""
    pairs = []
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise SystemExit(f"expected bank-id=value pairs separated by commas, got {item!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _origins(text: str) -> tuple[str, ...]:
    """``https://a.lv,http://localhost:5173`` → the origins; anything else stops the start."""
    origins = tuple(o.strip() for o in text.split(",") if o.strip())
    for origin in origins:
        if not _ORIGIN.match(origin):
            raise SystemExit(
                "CORS_ORIGINS lists origins separated by commas, each a scheme, a host and perhaps a port, "
                "such as https://portal.radioatlaujas.lv or http://localhost:5173 (no path, no '*'); got "
                f"{origin!r}"
            )
    return origins


def _dev_secret() -> str:
    """A per-checkout secret for dev, kept under var/ so that sessions and links survive a restart."""
    path = VAR_DIR / "dev-secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(32)
    path.write_text(value)
    path.chmod(0o600)
    return value


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``from_env`` reads the contract's variables (``shared/contract/API.md``)."""

    env: str = "dev"
    secret_key: str = ""
    redis_url: str | None = None
    redis_prefix: str = "gw:"  # lets several deployments (or test runs) share one Redis database
    database_url: str = "sqlite+aiosqlite:///var/gateway.db"
    billing_url: str | None = None
    permits_url: str | None = None
    documents_url: str | None = None
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    smtp_url: str | None = None
    audience: str = "esakari-gateway"  # the `aud` partner banks' assertions and tokens must carry
    partner_banks: tuple[tuple[str, str], ...] = ()  # (bank id, JWKS URL); empty: the sandbox banks
    bank_rate_limit: str = "120/60"  # requests per seconds, per bank, across every instance
    bank_rate_limits: tuple[tuple[str, str], ...] = ()  # per-bank exceptions: (bank id, "600/60")
    # (requests, seconds) across every instance: tries at the endpoints that check a secret per client
    # address, reset mails per e-mail, support reports per user (terms 12.2)
    login_rate_limit: tuple[int, int] = (60, 60)
    reset_mail_rate_limit: tuple[int, int] = (3, 3600)
    issue_rate_limit: tuple[int, int] = (10, 3600)
    # every request of a session's user (GraphQL, downloads; all its sessions together), and GraphQL
    # requests without a session per client address
    user_rate_limit: tuple[int, int] = (600, 60)
    anonymous_rate_limit: tuple[int, int] = (120, 60)
    access_log_days: int = 365  # how long the access log keeps a request's row
    access_log_flush_seconds: float = 1.0  # how often each worker writes its access records
    frontend_url: str = "/"
    public_url: str = "http://127.0.0.1:8000"  # where mailed links point
    outbox_dir: str = str(VAR_DIR / "outbox")  # mails land here when SMTP_URL is unset
    receipt_key_file: str = str(VAR_DIR / "receipt-key.json")  # the private JWK that signs receipts
    outbox_interval: float = 2.0  # seconds between the outbox worker's rounds when nothing wakes it
    policy_file: str | None = None
    session_idle_seconds: int = 30 * 60
    session_absolute_seconds: int = 12 * 3600
    account_cache_seconds: float = 5.0  # a worker's last read of a caller's account, while its stamp holds
    download_link_seconds: int = 300
    lockout_seconds: int = 15 * 60
    lockout_threshold: int = 5
    max_query_depth: int = 12
    max_aliases: int = 20
    max_tokens: int = 3000
    max_query_cost: int = 300_000  # values an answer could hold, estimated before it runs (schema.cost)
    max_request_bytes: int = 1 << 20  # the largest request body any route reads (413 beyond)
    upstream_timeout_seconds: float = 5.0
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # Browser origins other than the gateway's own whose pages may call it, with cookies (CORS); none: same
    # origin only
    cors_origins: tuple[str, ...] = ()
    batching: bool = True  # GATEWAY_BATCHING=off: one upstream call per parent (the benchmarks' baseline)
    workers: int = 1  # worker processes of this instance (`gateway serve --workers N` tells its workers)
    upstream_connections: int = 100  # per company system, for the whole instance: shared out among workers
    database_connections: int = 20  # to PostgreSQL, for the whole instance: shared out among workers
    seed_personas: bool = False  # also seed the sandbox personas when the systems are a separate sandbox
    # The collector's first threshold in a served worker, whose start-up objects are then frozen out of its
    # scans (gateway/app.py, tune_gc); 0 leaves Python's collector as it is. `gateway serve` sets 10000.
    gc_threshold: int = 0

    @property
    def is_dev(self) -> bool:
        return self.env == "dev"

    def per_worker(self, connections: int) -> int:
        """One worker's share of an instance's connection budget (at least 2, so that no worker starves)."""
        return max(2, -(-connections // max(1, self.workers)))

    @classmethod
    def from_env(cls, dotenv: bool = True) -> Settings:
        if dotenv:
            load_dotenv(override=False)
        env = _env("GATEWAY_ENV", "dev") or "dev"
        secret = _env("GATEWAY_SECRET")
        if secret is None:
            if env != "dev":
                raise SystemExit("GATEWAY_SECRET must be set outside dev (32+ random bytes, urlsafe base64).")
            secret = _dev_secret()
        return cls(
            env=env,
            secret_key=secret,
            redis_url=_env("REDIS_URL"),
            redis_prefix=_env("REDIS_PREFIX", "gw:") or "gw:",
            database_url=normalise_database_url(_env("DATABASE_URL")),
            billing_url=_env("BILLING_URL"),
            permits_url=_env("PERMITS_URL"),
            documents_url=_env("DOCUMENTS_URL"),
            oidc_issuer=_env("OIDC_ISSUER"),
            oidc_client_id=_env("OIDC_CLIENT_ID"),
            oidc_client_secret=_env("OIDC_CLIENT_SECRET"),
            smtp_url=_env("SMTP_URL"),
            audience=_env("GATEWAY_AUDIENCE", "esakari-gateway") or "esakari-gateway",
            partner_banks=_pairs(_env("PARTNER_BANKS", "") or ""),
            bank_rate_limit=_env("BANK_RATE_LIMIT", "120/60") or "120/60",
            bank_rate_limits=_pairs(_env("BANK_RATE_LIMITS", "") or ""),
            login_rate_limit=parse_limit(_env("LOGIN_RATE_LIMIT", "60/60") or "60/60"),
            reset_mail_rate_limit=parse_limit(_env("RESET_MAIL_RATE_LIMIT", "3/3600") or "3/3600"),
            issue_rate_limit=parse_limit(_env("ISSUE_RATE_LIMIT", "10/3600") or "10/3600"),
            user_rate_limit=parse_limit(_env("USER_RATE_LIMIT", "600/60") or "600/60"),
            anonymous_rate_limit=parse_limit(_env("ANONYMOUS_RATE_LIMIT", "120/60") or "120/60"),
            frontend_url=_env("FRONTEND_URL", "/") or "/",
            public_url=_env("PUBLIC_URL", f"http://127.0.0.1:{_env('PORT', '8000')}") or "",
            policy_file=_env("POLICY_FILE"),
            session_idle_seconds=_int("SESSION_IDLE_SECONDS", 30 * 60),
            session_absolute_seconds=_int("SESSION_ABSOLUTE_SECONDS", 12 * 3600),
            account_cache_seconds=_seconds("ACCOUNT_CACHE_SECONDS", 5.0, MAX_CACHE_SECONDS),
            access_log_days=_whole("ACCESS_LOG_DAYS", 365, "days"),
            max_request_bytes=_whole("MAX_REQUEST_BYTES", 1 << 20, "bytes"),
            max_query_cost=_int("MAX_QUERY_COST", 300_000),
            access_log_flush_seconds=_seconds("ACCESS_LOG_FLUSH_SECONDS", 1.0, 60) or 1.0,
            lockout_seconds=_int("LOCKOUT_SECONDS", 15 * 60),
            receipt_key_file=_env("RECEIPT_KEY_FILE", str(VAR_DIR / "receipt-key.json")) or "",
            upstream_timeout_seconds=float(_env("UPSTREAM_TIMEOUT_SECONDS", "5") or "5"),
            batching=_env("GATEWAY_BATCHING", "on") != "off",
            workers=_int("GATEWAY_WORKERS", 1),
            upstream_connections=_int("UPSTREAM_CONNECTIONS", 100),
            database_connections=_int("DATABASE_CONNECTIONS", 20),
            seed_personas=_env("GATEWAY_SEED_PERSONAS") == "1",
            gc_threshold=_int("GATEWAY_GC_THRESHOLD", 0),
            trusted_proxies=tuple(p for p in (_env("TRUSTED_PROXIES", "") or "").split(",") if p),
            cors_origins=_origins(_env("CORS_ORIGINS", "") or ""),
        )


def normalise_database_url(url: str | None) -> str:
    """Accept the usual ``postgresql://`` and ``sqlite:///`` forms and pick the async drivers."""
    if url is None:
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        return f"sqlite+aiosqlite:///{VAR_DIR / 'gateway.db'}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
