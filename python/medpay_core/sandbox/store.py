"""The sandbox's state in SQLite (WAL).

Every state change is one ``BEGIN IMMEDIATE`` transaction, and the 6302 notices waiting
to go out are rows of the ``notices`` table (an outbox) written in the same transaction
as the payment. So a process killed at any moment restarts with every order, payment,
refund and pending notice it had acknowledged, and none half-applied.

One sandbox per database: a :class:`Store` holds an exclusive lock (``<db>.lock``) from
its creation to :meth:`Store.close`, and a second one on the same file is a
:class:`~medpay_core.errors.StoreError` (``in_use``) naming the file. The schema's
version is ``PRAGMA user_version``; an older file is migrated in place when opened
(:data:`MIGRATIONS`), a newer one refused (``medpay_core.sqlite_schema``).
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from decimal import Decimal
from typing import Any, Iterator, Optional

from ..sqlite_schema import ExclusiveFileLock, Migration, UserVersion, migrate

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    name  TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS orders (
    pay_ord_id     TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL,
    pay_token      TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('UNPAID', 'PAID', 'REVOKED')),
    upload_json    TEXT NOT NULL,
    total          TEXT NOT NULL,
    fund           TEXT NOT NULL,
    acct           TEXT NOT NULL,
    other          TEXT NOT NULL,
    cash           TEXT NOT NULL,
    deposit        TEXT,
    created_at     TEXT NOT NULL,
    paid_at        TEXT,
    payment_json   TEXT,
    revoked_at     TEXT,
    refunded_fund  TEXT NOT NULL DEFAULT '0.00',
    refunded_acct  TEXT NOT NULL DEFAULT '0.00',
    refunded_cash  TEXT NOT NULL DEFAULT '0.00'
);
-- 6201 idempotency: one live order per (institution, orgBizSer or medOrgOrd).
CREATE TABLE IF NOT EXISTS upload_keys (
    app_id     TEXT NOT NULL,
    biz_key    TEXT NOT NULL,
    pay_ord_id TEXT NOT NULL REFERENCES orders(pay_ord_id),
    req_hash   TEXT NOT NULL,
    PRIMARY KEY (app_id, biz_key)
);
-- 6203 idempotency: appRefdSn per institution.
CREATE TABLE IF NOT EXISTS refunds (
    app_id        TEXT NOT NULL,
    app_refd_sn   TEXT NOT NULL,
    pay_ord_id    TEXT NOT NULL REFERENCES orders(pay_ord_id),
    req_hash      TEXT NOT NULL,
    refd_type     TEXT NOT NULL,
    fund          TEXT NOT NULL,
    acct          TEXT NOT NULL,
    cash          TEXT NOT NULL,
    response_json TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (app_id, app_refd_sn)
);
-- The outbox of 6302 notices: one per paid order.
CREATE TABLE IF NOT EXISTS notices (
    pay_ord_id      TEXT PRIMARY KEY REFERENCES orders(pay_ord_id),
    app_id          TEXT NOT NULL,
    payload_json    TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_error      TEXT,
    created_at      TEXT NOT NULL,
    delivered_at    TEXT
);
CREATE INDEX IF NOT EXISTS notices_due ON notices (status, next_attempt_at);
-- payAuthNo issued by the e-voucher page (checked when strictAuth is on).
CREATE TABLE IF NOT EXISTS vouchers (
    pay_auth_no TEXT PRIMARY KEY,
    person_json TEXT NOT NULL,
    qr_text     TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
-- An append-only log of what happened, for people and tests.
CREATE TABLE IF NOT EXISTS events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    kind       TEXT NOT NULL,
    pay_ord_id TEXT,
    detail     TEXT
);
"""


def _create_tables(db: sqlite3.Connection) -> None:
    # Statement by statement: executescript would commit the migration's transaction.
    for statement in SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)


#: The schema's steps: ``MIGRATIONS[i]`` takes version ``i`` to ``i + 1``. Version 1 is the
#: schema above; a file from before versions were recorded (version 0) has its tables
#: already, or some of them, and gets the missing ones (``IF NOT EXISTS``). A change of the
#: schema is a new step appended here, never an edit of an old one.
MIGRATIONS: list[Migration] = [_create_tables]


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__}")


def dumps(obj: Any) -> str:
    """JSON for a column: Decimals as strings, so amounts keep their literal."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=_default)


def _private_file(path: str) -> None:
    """Create the database file readable by its owner only: it holds patients' idNo and
    names (PIPL). An existing file is narrowed to 0600. SQLite gives its WAL and
    shared-memory files the database file's permissions."""
    if path == ":memory:" or path.startswith("file:"):
        return
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


class Store:
    """SQLite access: one connection per thread, writes in ``transaction()``."""

    def __init__(self, path: str):
        self.path = str(path)
        _private_file(self.path)
        self._file_lock: Optional[ExclusiveFileLock] = None
        if self.path != ":memory:" and not self.path.startswith("file:"):
            self._file_lock = ExclusiveFileLock(
                self.path + ".lock", store=self.path,
                busy="another sandbox is running on this database (one sandbox per database: stop it, "
                     "or give this one its own --db):")
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        try:
            self.schema_version = migrate(self._conn(), MIGRATIONS, UserVersion(), path=self.path,
                                          what="the sandbox database")
        except BaseException:
            self.close()
            raise

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction is
            # exactly the block in transaction(), never sqlite3's implicit ones.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a commit is on disk before we answer, so even a power cut after an
            # answer keeps what was answered (a killed process would keep it anyway).
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction: taken with BEGIN IMMEDIATE (writers queue up here, so a
        read-check-write inside it cannot race another), committed at the end of the
        block, rolled back if it raises."""
        db = self._conn()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        else:
            db.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        """A connection for reads outside a transaction (each statement is atomic)."""
        return self._conn()

    def next_number(self, db: sqlite3.Connection, name: str) -> int:
        """The next value of counter ``name``, inside the caller's transaction."""
        db.execute(
            "INSERT INTO counters(name, value) VALUES (?, 1) "
            "ON CONFLICT(name) DO UPDATE SET value = value + 1",
            (name,),
        )
        return int(db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0])

    def close(self) -> None:
        """Close every connection this store opened."""
        with self._lock:
            conns, self._all = self._all, []
        for c in conns:
            try:
                c.close()
            except sqlite3.Error:
                pass
        self._local = threading.local()
        if self._file_lock is not None:
            self._file_lock.release()
