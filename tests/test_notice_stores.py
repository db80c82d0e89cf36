"""The store kit (tests/store_kit.py) against every NoticeStore medpay ships, and what is
particular to each: PostgreSQL's inbox transaction, purge's replay guard."""

from __future__ import annotations

import functools
import os
import uuid

import pytest

from medpay_core.callbacks import CLAIMED, DONE, STALE, MemoryNoticeStore, NoticeKey, SQLiteNoticeStore
from medpay_core.errors import ValidationError
from pg_support import pg_cluster, pg_conninfo  # noqa: F401  (fixtures)
from store_kit import CHECKS, Harness, fresh_key


def _memory() -> Harness:
    shared = MemoryNoticeStore()
    # One store object is the whole "backing store"; close is a no-op.
    return Harness("memory", open=lambda: shared, crash="thread", close=lambda s: None)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def harness(request, tmp_path):
    if request.param == "memory":
        return _memory()
    if request.param == "sqlite":
        path = str(tmp_path / "notices.sqlite3")
        factory = functools.partial(SQLiteNoticeStore, path)
        return Harness("sqlite", open=factory, crash="process", factory=factory)
    from medpay_core.notice_store_pg import PostgresNoticeStore

    conninfo = request.getfixturevalue("pg_conninfo")
    factory = functools.partial(PostgresNoticeStore, conninfo)
    return Harness("postgres", open=factory, crash="process", factory=factory)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_the_store_kit(harness, check):
    check(harness)


def test_the_sqlite_store_also_takes_over_a_claim_of_an_ended_thread(tmp_path):
    check = dict((c.__name__, c) for c in CHECKS)["check_a_claim_whose_holder_died_is_taken_over"]
    check(Harness("sqlite-thread", open=functools.partial(SQLiteNoticeStore, str(tmp_path / "n.sqlite3"))))


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def purgeable(request, tmp_path):
    if request.param == "memory":
        yield MemoryNoticeStore()
    elif request.param == "sqlite":
        s = SQLiteNoticeStore(tmp_path / "n.sqlite3")
        yield s
        s.close()
    else:
        from medpay_core.notice_store_pg import PostgresNoticeStore

        yield PostgresNoticeStore(request.getfixturevalue("pg_conninfo"))


def test_purge_forgets_old_notices_and_refuses_their_replay(purgeable):
    old = NoticeKey("APP1", "ORD-OLD", "02", "2026-01-01 08:00:00")
    older = NoticeKey("APP1", "ORD-OLDER", "02", "2025-12-31 08:00:00")
    new = NoticeKey("APP1", "ORD-NEW", "02", "2026-03-01 08:00:00")
    odd = NoticeKey("APP1", "ORD-ODD", "02", "20260101080000")  # not the center's format: kept
    for k in (old, older, new, odd):
        purgeable.complete(purgeable.claim(k))
    assert purgeable.purge("2026-02-01 00:00:00") == 2
    assert purgeable.claim(old).state == STALE  # forgotten, yet not processed again
    assert purgeable.claim(older).state == STALE
    assert purgeable.claim(new).state == DONE
    assert purgeable.claim(odd).state == DONE
    # A never-seen notice from before the purged time is a replay too; a later one is not.
    assert purgeable.claim(NoticeKey("APP1", "ORD-X", "02", "2025-06-01 00:00:00")).state == STALE
    assert purgeable.claim(NoticeKey("APP1", "ORD-Y", "02", "2026-01-15 00:00:00")).state == CLAIMED
    with pytest.raises(ValidationError):
        purgeable.purge("90 days")


# -- PostgreSQL: the inbox ------------------------------------------------------------------


def _orders(conninfo):
    import psycopg

    c = psycopg.connect(conninfo, autocommit=True)
    c.execute("CREATE TABLE IF NOT EXISTS paid (pay_ord_id text PRIMARY KEY)")
    return c


def test_postgres_commits_the_effect_and_the_mark_together(pg_conninfo):
    from medpay_core.notice_store_pg import PostgresNoticeStore

    store, orders = PostgresNoticeStore(pg_conninfo), _orders(pg_conninfo)
    key = fresh_key()
    claim = store.claim(key)
    claim.tx.execute("INSERT INTO paid VALUES (%s)", (key.pay_ord_id,))
    # Not visible before the commit: the effect belongs to the claim's transaction.
    assert orders.execute("SELECT count(*) FROM paid").fetchone()[0] == 0
    store.complete(claim)
    assert orders.execute("SELECT count(*) FROM paid").fetchone()[0] == 1
    assert store.claim(key).state == DONE


def test_postgres_release_rolls_the_effect_back(pg_conninfo):
    from medpay_core.notice_store_pg import PostgresNoticeStore

    store, orders = PostgresNoticeStore(pg_conninfo), _orders(pg_conninfo)
    key = fresh_key()
    claim = store.claim(key)
    claim.tx.execute("INSERT INTO paid VALUES (%s)", (key.pay_ord_id,))
    store.release(claim)
    assert orders.execute("SELECT count(*) FROM paid").fetchone()[0] == 0
    assert store.claim(key).state == CLAIMED


def test_postgres_a_killed_session_rolls_back_and_the_notice_is_claimed_again(pg_conninfo):
    from medpay_core.notice_store_pg import PostgresNoticeStore

    store, orders = PostgresNoticeStore(pg_conninfo), _orders(pg_conninfo)
    key = fresh_key()
    claim = store.claim(key)
    claim.tx.execute("INSERT INTO paid VALUES (%s)", (key.pay_ord_id,))
    pid = claim.tx.info.backend_pid
    assert store.claim(key).state == "busy"
    # The database side of a crash: the session is gone (as when the worker is SIGKILLed).
    orders.execute("SELECT pg_terminate_backend(%s)", (pid,))
    for _ in range(1000):  # until the backend has exited; bounded by count
        if orders.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()[0] == 0:
            break
    again = store.claim(key)
    assert again.state == CLAIMED
    assert orders.execute("SELECT count(*) FROM paid").fetchone()[0] == 0
    store.release(again)


def test_postgres_store_refuses_a_bad_table_name():
    from medpay_core.notice_store_pg import PostgresNoticeStore

    with pytest.raises(ValidationError):
        PostgresNoticeStore("host=127.0.0.1", table="x; DROP TABLE y")
