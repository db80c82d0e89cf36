"""The store kit (tests/store_kit.py) against every NoticeStore medpay ships, and what is
particular to each: PostgreSQL's inbox transaction, purge's replay guard."""

from __future__ import annotations

import functools

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


# -- the fault test: two servers, one PostgreSQL store, kills inside on_notice ---------------

_PG_SERVER = r"""
import os, signal, time
import uvicorn
import medpay_core as mp
from medpay_core.asgi import create_app
from medpay_core.notice_store_pg import PostgresNoticeStore

creds = mp.Credentials(os.environ["T_APP_ID"], os.environ["T_SECRET"],
                       mp.SM2PrivateKey.from_string(os.environ["T_INST"]), os.environ["T_CENTER_PUB"])
kill_at = int(os.environ["T_KILL_AT"] or 0)   # die at this on_notice call of this life (0: never)
point = os.environ["T_KILL_POINT"]
calls = [0]

def die_if(here):
    if calls[0] == kill_at and point == here:
        os.kill(os.getpid(), signal.SIGKILL)

def on_notice(notice, conn):
    calls[0] += 1
    die_if("before")
    conn.execute("INSERT INTO effects (pay_ord_id, pid) VALUES (%s, %s)", (notice.pay_ord_id, os.getpid()))
    die_if("after")
    time.sleep(0.01)   # widen the window in which a duplicate finds the claim busy
    die_if("late")

app = create_app(mp.EnvelopeCodec(creds), on_notice, store=PostgresNoticeStore(os.environ["T_PG"]))
uvicorn.run(app, host="127.0.0.1", port=int(os.environ["T_PORT"]), log_level="error")
"""


class _Server:
    """One uvicorn process serving the app on a fixed port; restarted after a kill."""

    def __init__(self, env, port):
        self.env, self.port, self.proc, self.lives = env, port, None, 0
        self.url = f"http://127.0.0.1:{port}/medpay/notify"

    def start(self, kill_at=0, point=""):
        import subprocess
        import sys

        from sandbox_support import wait_until

        env = {**self.env, "T_PORT": str(self.port), "T_KILL_AT": str(kill_at), "T_KILL_POINT": point}
        self.proc = subprocess.Popen([sys.executable, "-c", _PG_SERVER], env=env)
        self.lives += 1
        assert wait_until(lambda: self.proc.poll() is not None or _answers(self.url), tries=1500)
        assert self.proc.poll() is None, "the server did not start"

    def dead(self):
        return self.proc.poll() is not None

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)


def _answers(url):
    import httpx

    try:
        httpx.get(url, timeout=2)
        return True
    except httpx.TransportError:
        return False


def test_two_servers_with_kills_inside_on_notice_make_exactly_one_effect_per_notice(pg_conninfo):
    """N notices, each delivered M times at once to either of two uvicorn processes on one
    PostgreSQL store; servers SIGKILL themselves at random points inside on_notice (before
    the write, after it, after it and a pause) and are restarted; every delivery is
    repeated until acknowledged. Bounded by rounds, not time."""
    import os
    import random
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    import psycopg

    import center_server as cs
    from medpay_core.notice_store_pg import PostgresNoticeStore
    from sandbox_support import free_port

    N, M, KILLS, ROUNDS = 24, 3, 6, 40
    keys = cs.LocalCenter()
    with psycopg.connect(pg_conninfo, autocommit=True) as c:
        c.execute("CREATE TABLE effects (pay_ord_id text NOT NULL, pid int NOT NULL)")  # no key: duplicates show
    PostgresNoticeStore(pg_conninfo)  # the schema, once
    env = {**os.environ, "T_APP_ID": keys.app_id, "T_SECRET": cs.APP_SECRET, "T_INST": keys.inst_key.to_hex(),
           "T_CENTER_PUB": keys.center_key.public_key().to_hex(), "T_PG": pg_conninfo}
    rng = random.Random(12)
    plan = [(rng.randint(1, 6), rng.choice(["before", "after", "late"])) for _ in range(KILLS)]
    servers = [_Server(env, free_port()), _Server(env, free_port())]
    bodies = [keys.codec.pack_json(cs.settlement_notice(f"ORDFAULT{i:06d}")) for i in range(N)]
    pending = [(i, m) for i in range(N) for m in range(M)]
    kills = 0
    try:
        for s in servers:
            kill_at, point = plan.pop(0)
            s.start(kill_at, point)

        def deliver(item):
            i, _ = item
            url = rng.choice(servers).url
            try:
                r = httpx.post(url, content=bodies[i], timeout=30)
            except httpx.TransportError:
                return False  # the server died under us: the center delivers again
            return json_success(r.content)

        rounds = 0
        with ThreadPoolExecutor(8) as pool:
            while pending and rounds < ROUNDS:
                rounds += 1
                rng.shuffle(pending)
                acked = list(pool.map(deliver, pending))
                pending = [item for item, ok in zip(pending, acked) if not ok]
                for s in servers:
                    if s.dead():
                        kills += 1
                        kill_at, point = plan.pop(0) if plan else (0, "")
                        s.start(kill_at, point)
        assert not pending, f"{len(pending)} deliveries never acknowledged in {ROUNDS} rounds"
        with psycopg.connect(pg_conninfo) as c:
            rows = c.execute("SELECT pay_ord_id, count(*) FROM effects GROUP BY pay_ord_id").fetchall()
        assert len(rows) == N and all(n == 1 for _, n in rows), rows
        assert kills >= 1, "no server was killed: the test tested nothing"
        print(f"fault test: N={N} M={M} kills={kills} rounds={rounds} lives={[s.lives for s in servers]}")
    finally:
        for s in servers:
            s.stop()


def json_success(body):
    import json

    doc = json.loads(body)
    return doc["data"]["success"] is True


def test_the_sqlite_store_still_reads_the_done_notices_of_a_file_from_before_app_id_keys(tmp_path):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    with sqlite3.connect(path) as c:  # the schema medpay wrote before issue 12
        c.execute("CREATE TABLE medpay_notices (key TEXT PRIMARY KEY, state TEXT NOT NULL, token TEXT NOT NULL,"
                  " claimed_at REAL NOT NULL, done_at REAL)")
        c.execute("INSERT INTO medpay_notices VALUES ('ORD-OLD:02', 'done', 't', 0, 0)")
        c.execute("INSERT INTO medpay_notices VALUES ('ORD-HALF:02', 'processing', 't', 0, NULL)")
    store = SQLiteNoticeStore(path)
    assert store.claim(NoticeKey("APP1", "ORD-OLD", "02")).state == DONE
    assert store.claim(NoticeKey("APP1", "ORD-HALF", "02")).state == CLAIMED  # never finished: process it
    assert store.claim(NoticeKey("APP1", "ORD-NEW", "02")).state == CLAIMED
    store.close()


def test_postgres_says_so_when_on_notice_commits_the_claims_transaction(pg_conninfo, caplog):
    from medpay_core.notice_store_pg import PostgresNoticeStore

    store, orders = PostgresNoticeStore(pg_conninfo), _orders(pg_conninfo)
    key = fresh_key()
    claim = store.claim(key)
    claim.tx.execute("INSERT INTO paid VALUES (%s)", (key.pay_ord_id,))
    claim.tx.commit()  # what on_notice must not do: it frees the claim's lock
    store.complete(claim)
    assert "never commit it" in caplog.text and key.pay_ord_id in caplog.text
    assert store.claim(key).state == DONE
    orders.close()


def test_the_sqlite_holder_check_reads_the_operating_system_not_a_clock():
    from medpay_core import callbacks as cb

    me = cb._owner()
    host, boot, ns, pid, start, thread = me.split("|")
    assert cb._owner_alive(me)  # this very thread
    assert not cb._owner_alive("|".join((host, boot, ns, pid, start, "1")))  # an ended thread of ours
    assert not cb._owner_alive("|".join((host, boot, ns, pid, start + "0", thread)))  # our pid, reused
    assert not cb._owner_alive("|".join((host, "another-boot", ns, pid, start, thread)))  # before a reboot
    assert cb._owner_alive("|".join(("another-host", boot, ns, pid, start, thread)))  # cannot know: busy
    assert cb._owner_alive("|".join((host, boot, "pid:[1]", pid, start, thread)))  # another container
    # A process that is gone: the child of a finished subprocess.
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert not cb._owner_alive("|".join((host, boot, ns, str(child.pid), "1", "1")))
    assert not cb._owner_alive("garbage")
