"""Engine/session factory and create-on-start with a schema version check."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, event, inspect, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.errors import ConfigError, SchemaVersionError
from backend_stub.models import SCHEMA_VERSION, Base, SchemaMeta


def make_engine(database_url: str) -> Engine:
    if database_url.startswith("sqlite"):
        # Workers and the origin are separate processes writing one file: WAL lets readers
        # proceed during a write, and busy_timeout waits for the lock instead of failing.
        engine = create_engine(database_url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    url = make_url(database_url)
    if url.drivername == "postgresql":
        # Plain postgresql:// would mean psycopg2, which we do not ship: use psycopg 3.
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True)


def init_db(engine: Engine) -> None:
    """Create the tables on an empty database; refuse one stamped with another version."""
    tables = set(inspect(engine).get_table_names())
    if tables and "schema_meta" not in tables:
        raise SchemaVersionError(
            f"database {engine.url.render_as_string(hide_password=True)} has tables "
            f"{sorted(tables)} but no schema_meta table: it was not created by streamlab"
        )
    Base.metadata.create_all(engine)
    with Session(engine) as session, session.begin():
        row = session.get(SchemaMeta, "schema_version")
        if row is None:
            session.add(SchemaMeta(key="schema_version", value=str(SCHEMA_VERSION)))
        elif row.value != str(SCHEMA_VERSION):
            raise SchemaVersionError(
                f"database {engine.url.render_as_string(hide_password=True)} has schema version "
                f"{row.value}, this streamlab expects {SCHEMA_VERSION}; use a new --data-dir "
                "(or --database-url) or migrate the database"
            )


def session_factory(database_url: str) -> sessionmaker[Session]:
    """Sessions on a checked database; a bad URL, a missing driver or an unreachable server
    is a ConfigError naming the URL (password hidden), not a traceback."""
    try:
        engine = make_engine(database_url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        raise ConfigError(f"database URL {_safe(database_url)}: {exc}") from exc
    try:
        init_db(engine)
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip() if exc.orig is not None else str(exc)
        raise ConfigError(
            f"cannot use database {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from exc
    return sessionmaker(engine, expire_on_commit=False)


def _safe(database_url: str) -> str:
    try:
        return make_url(database_url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(database_url)
