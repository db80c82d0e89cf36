"""A :class:`~medpay_core.callbacks.NoticeStore` in PostgreSQL (psycopg 3; the
``postgres`` extra), for several servers on one database: the inbox pattern.

A claim is a transaction on its own connection that holds the transaction-scoped
advisory lock of the notice's key (``pg_try_advisory_xact_lock``) and found no ``done``
row. ``on_notice(notice, conn)`` runs *in that transaction*: the institution's own
update (mark the order paid) and the row that says "this notice is done" commit
together, or neither does. So:

- a second delivery while the first runs finds the lock taken: ``busy``;
- a delivery after the commit takes the lock and finds the row: ``done``;
- a worker that dies inside ``on_notice`` (crash, ``kill -9``, lost network) ends its
  session; PostgreSQL rolls its transaction back, its effect with it, and frees the lock,
  so the next delivery claims the notice at once. Liveness is the database's notion of
  a session, never a clock: a slow ``on_notice`` is never taken over.

The transaction runs at READ COMMITTED whatever the server's default: the ``done`` row is
read by a statement that starts after the lock is granted, so it sees a commit that freed
the lock (at REPEATABLE READ the snapshot could predate it).

>>> # store = PostgresNoticeStore("postgresql://his@db.internal/his")
>>> # def record(notice, conn):                # conn: the claim's psycopg connection
>>> #     conn.execute("UPDATE orders SET paid = true WHERE pay_ord_id = %s", (notice.pay_ord_id,))
>>> # app = create_app(codec, record, store=store)

Rows are ``(app_id, pay_ord_id, call_type, trace_time, done_at)``, only for notices
done; :meth:`PostgresNoticeStore.purge` forgets old ones and keeps the newest
``traceTime`` forgotten, so a replay of a forgotten notice is refused (``stale``).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any, Callable, Optional

import psycopg
from psycopg import sql

from .callbacks import BUSY, CLAIMED, DONE, STALE, Claim, NoticeKey, _bad, _check_trace_time, _is_stale

__all__ = ["PostgresNoticeStore"]

log = logging.getLogger("medpay.callbacks")

#: The first argument of the two-key advisory lock (``pg_try_advisory_xact_lock(int, int)``)
#: names medpay's lock space, so our locks do not meet the institution's own.
_LOCK_SPACE = 0x6D70  # "mp"


class PostgresNoticeStore:
    """Notices in a PostgreSQL table, claims held by the claiming transaction.

    ``conninfo`` is a libpq connection string (or pass ``connect``, a function returning
    a new :class:`psycopg.Connection`, e.g. to set options). Each claim uses a connection
    of its own for the duration of one notice, closed at ``complete``/``release``.
    ``passes_transaction`` is True: :func:`~medpay_core.callbacks.handle_settlement_notice`
    calls ``on_notice(notice, conn)``; write in ``conn`` and do not commit (the store
    commits after ``on_notice`` returns).

    >>> # s = PostgresNoticeStore("host=127.0.0.1 port=5432 dbname=his user=his")
    >>> # c = s.claim(NoticeKey("APP1", "ORD1", "02")); c.state
    >>> # 'claimed'
    >>> # c.tx.execute("UPDATE ..."); s.complete(c)    # the update and the mark, one commit
    """

    passes_transaction = True

    def __init__(self, conninfo: str = "", *, connect: Optional[Callable[[], "psycopg.Connection[Any]"]] = None,
                 table: str = "medpay_notices") -> None:
        if not table.replace("_", "").isalnum():
            raise _bad("table", "identifier", "is letters, digits and '_'")
        if not conninfo and connect is None:
            raise _bad("conninfo", "required", "a connection string or connect=")
        self._connect: Callable[[], psycopg.Connection[Any]] = (
            connect if connect is not None else (lambda: psycopg.connect(conninfo))
        )
        self.table = table
        self._t = sql.Identifier(table)
        self._purged = sql.Identifier(table + "_purged")
        with self._connect() as c:
            c.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ("
                " app_id text NOT NULL, pay_ord_id text NOT NULL, call_type text NOT NULL,"
                " trace_time text NOT NULL DEFAULT '', done_at timestamptz NOT NULL DEFAULT now(),"
                " PRIMARY KEY (app_id, pay_ord_id, call_type))").format(self._t))
            c.execute(sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} (id int PRIMARY KEY CHECK (id = 1), through text NOT NULL)"
            ).format(self._purged))

    def _open(self) -> psycopg.Connection[Any]:
        conn = self._connect()
        # See the module: the done row must be read after the lock, by a fresh snapshot.
        conn.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        conn.autocommit = False
        return conn

    def claim(self, key: NoticeKey) -> Claim:
        conn = self._open()
        try:
            got = conn.execute(
                "SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))",
                (_LOCK_SPACE, f"{key.app_id}\x1f{key.pay_ord_id}\x1f{key.call_type}"),
            ).fetchone()
            # Two keys hashing alike only share a lock: a spurious "busy", never a miss.
            if not (got and got[0]):
                conn.rollback()
                conn.close()
                return Claim(BUSY, key)
            done = conn.execute(
                sql.SQL("SELECT 1 FROM {} WHERE app_id = %s AND pay_ord_id = %s AND call_type = %s").format(self._t),
                (key.app_id, key.pay_ord_id, key.call_type),
            ).fetchone()
            if done is not None:
                conn.rollback()
                conn.close()
                return Claim(DONE, key)
            purged = conn.execute(sql.SQL("SELECT through FROM {}").format(self._purged)).fetchone()
            if _is_stale(key, purged[0] if purged else ""):
                conn.rollback()
                conn.close()
                return Claim(STALE, key)
        except BaseException:
            conn.close()
            raise
        # The transaction stays open: it is the claim, and on_notice writes in it.
        return Claim(CLAIMED, key, uuid.uuid4().hex, conn)

    def complete(self, claim: Claim) -> None:
        """Insert the done row and commit the transaction (with on_notice's writes). If
        the commit fails nothing of it happened; the caller asks for redelivery."""
        conn, key = self._claimed(claim)
        if conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
            # on_notice committed (or rolled back) the claim's transaction: the lock went
            # with it, so another worker may have run the notice too. Say so loudly.
            log.error("6302 %s: on_notice ended the claim's transaction; write in it, never commit it", key)
        try:
            conn.execute(
                sql.SQL("INSERT INTO {} (app_id, pay_ord_id, call_type, trace_time) VALUES (%s, %s, %s, %s)")
                .format(self._t),
                (key.app_id, key.pay_ord_id, key.call_type, key.trace_time),
            )
            conn.commit()
        finally:
            conn.close()

    def release(self, claim: Claim) -> None:
        """Roll back (on_notice's writes too) and free the lock."""
        conn, _ = self._claimed(claim)
        try:
            conn.rollback()
        finally:
            conn.close()

    @staticmethod
    def _claimed(claim: Claim) -> tuple[psycopg.Connection[Any], NoticeKey]:
        if claim.state != CLAIMED or not isinstance(claim.tx, psycopg.Connection) or claim.key is None:
            raise _bad("claim", "claimed", "not a claim of this store")
        return claim.tx, claim.key

    def purge(self, trace_time_before: str) -> int:
        """Forget done notices whose ``traceTime`` is before ``trace_time_before``
        (``"yyyy-MM-dd HH:mm:ss"``), keeping the newest one forgotten: a notice at or
        before it is refused from then on. Returns how many were forgotten.

        >>> # store.purge("2026-08-01 00:00:00")
        """
        cutoff = _check_trace_time(trace_time_before)
        fmt = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"
        with self._open() as conn:
            # One transaction: the watermark and the deletion commit together.
            row = conn.execute(
                sql.SQL("WITH gone AS (DELETE FROM {} WHERE trace_time ~ %s AND trace_time < %s"
                        " RETURNING trace_time) SELECT max(trace_time), count(*) FROM gone").format(self._t),
                (fmt, cutoff),
            ).fetchone()
            assert row is not None
            if row[1]:
                conn.execute(
                    sql.SQL("INSERT INTO {0} (id, through) VALUES (1, %s) ON CONFLICT (id)"
                            " DO UPDATE SET through = greatest({0}.through, excluded.through)").format(self._purged),
                    (row[0],),
                )
            return int(row[1])

    def close(self) -> None:
        """Nothing to close: connections live for one claim each."""
