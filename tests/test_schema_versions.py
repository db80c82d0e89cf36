"""Every SQLite store of the package records its schema version, migrates an older or
unversioned file in place and refuses one from a newer medpay; and one sandbox per
database, enforced by a lock held while it runs (issue 16)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
import pytest

from medpay_core import cli
from medpay_core.callbacks import NoticeKey, SQLiteNoticeStore
from medpay_core.errors import StoreError
from medpay_core.sandbox import SandboxServer, generate_config
from medpay_core.sandbox.store import MIGRATIONS, SCHEMA, Store
from medpay_core.sqlite_schema import UserVersion, VersionTable, migrate


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("PRAGMA user_version").fetchone()[0])


# -- the sandbox's database ------------------------------------------------------------------


def test_a_new_sandbox_database_records_the_latest_version(tmp_path):
    Store(str(tmp_path / "c.db")).close()
    assert user_version(tmp_path / "c.db") == len(MIGRATIONS) >= 1


def test_an_unversioned_sandbox_database_is_migrated_in_place_keeping_its_rows(tmp_path):
    db = tmp_path / "old.db"
    with sqlite3.connect(db) as c:  # what medpay wrote before versions were recorded
        c.executescript(SCHEMA)
        c.execute("INSERT INTO counters(name, value) VALUES ('order', 41)")
    assert user_version(db) == 0
    store = Store(str(db))
    try:
        assert store.schema_version == len(MIGRATIONS)
        assert store.read().execute("SELECT value FROM counters WHERE name = 'order'").fetchone()[0] == 41
    finally:
        store.close()
    assert user_version(db) == len(MIGRATIONS)


def test_a_sandbox_database_missing_tables_gets_them(tmp_path):
    db = tmp_path / "partial.db"
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)")
    Store(str(db)).close()
    with sqlite3.connect(db) as c:
        tables = {r[0] for r in c.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"orders", "notices", "refunds", "events"} <= tables


def test_a_sandbox_database_from_a_newer_medpay_is_refused_naming_the_file_and_versions(tmp_path):
    db = tmp_path / "newer.db"
    with sqlite3.connect(db) as c:
        c.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(StoreError) as ei:
        Store(str(db))
    e = ei.value
    assert e.reason == "newer_schema" and e.path == str(db)
    assert str(db) in str(e) and f"schema version {len(MIGRATIONS) + 1}" in str(e) and "upgrade medpay" in str(e)
    assert user_version(db) == len(MIGRATIONS) + 1  # untouched
    with sqlite3.connect(db) as c:  # the refused file's lock was released: it opens once fixed
        c.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
    Store(str(db)).close()


def test_a_failed_migration_rolls_back_and_says_so(tmp_path):
    db = tmp_path / "m.db"
    conn = sqlite3.connect(db, isolation_level=None)
    steps = [lambda c: c.execute("CREATE TABLE a (x)"), lambda c: c.execute("CREATE TABLE a (x)")]
    with pytest.raises(StoreError) as ei:
        migrate(conn, steps, UserVersion(), path=str(db), what="the test store")
    assert ei.value.reason == "schema" and "from version 1 to 2 failed" in str(ei.value)
    assert UserVersion().read(conn) == 0
    assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'a'").fetchone()[0] == 0
    assert migrate(conn, steps[:1], UserVersion(), path=str(db), what="the test store") == 1
    assert migrate(conn, steps[:1], UserVersion(), path=str(db), what="the test store") == 1  # once only


# -- one sandbox per database ----------------------------------------------------------------


def test_a_second_sandbox_on_the_same_database_is_refused_naming_it_until_the_first_stops(tmp_path):
    db = str(tmp_path / "center.db")
    raw = generate_config()
    with SandboxServer(raw, db):
        with pytest.raises(StoreError) as ei:
            SandboxServer(raw, db).start()
        assert ei.value.reason == "in_use" and ei.value.path == db and db in str(ei.value)
        assert "one sandbox per database" in str(ei.value)
        with SandboxServer(raw, str(tmp_path / "another.db")):  # another file is no conflict
            pass
    with SandboxServer(raw, db):  # released on close
        pass


def test_another_process_cannot_open_a_database_a_sandbox_holds(tmp_path):
    db = str(tmp_path / "center.db")
    probe = textwrap.dedent(f"""
        from medpay_core.errors import StoreError
        from medpay_core.sandbox.store import Store
        try:
            Store({db!r}).close()
            print("opened")
        except StoreError as e:
            print(e.reason)
    """)

    def other_process() -> str:
        return subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout.strip()

    store = Store(db)
    try:
        assert other_process() == "in_use"
    finally:
        store.close()
    assert other_process() == "opened"


def test_medpay_sandbox_on_a_database_in_use_exits_with_the_message(tmp_path, capsys):
    db = tmp_path / "center.db"
    store = Store(str(db))
    try:
        status = cli.main(["sandbox", "--db", str(db), "--port", "0"])
    finally:
        store.close()
    assert status != 0
    err = capsys.readouterr().err
    assert "another sandbox is running on this database" in err and str(db) in err


# -- the notice store ------------------------------------------------------------------------

OLD_NOTICE_TABLE = ("CREATE TABLE medpay_notice_claims (app_id TEXT NOT NULL, pay_ord_id TEXT NOT NULL,"
                    " call_type TEXT NOT NULL, state TEXT NOT NULL CHECK (state IN ('processing', 'done')),"
                    " token TEXT NOT NULL, owner TEXT NOT NULL, trace_time TEXT NOT NULL, done_at REAL,"
                    " PRIMARY KEY (app_id, pay_ord_id, call_type))")


def test_a_new_notice_store_records_its_version_in_its_own_table_not_user_version(tmp_path):
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as c:
        c.execute("PRAGMA user_version = 7")  # the application's own
    store = SQLiteNoticeStore(path)
    store.close()
    assert store.schema_version == 1
    assert user_version(path) == 7
    with sqlite3.connect(path) as c:
        assert VersionTable("medpay_notice_claims_schema").read(c) == 1


def test_an_unversioned_notice_store_is_migrated_in_place_and_keeps_what_it_processed(tmp_path):
    path = tmp_path / "notices.db"
    with sqlite3.connect(path) as c:
        c.execute(OLD_NOTICE_TABLE)
        c.execute("INSERT INTO medpay_notice_claims VALUES ('APP1', 'ORD1', '02', 'done', 't', '', '', 1.0)")
    store = SQLiteNoticeStore(path)
    try:
        assert store.schema_version == 1
        assert store.claim(NoticeKey("APP1", "ORD1", "02")).state == "done"  # still known
    finally:
        store.close()


def test_a_notice_store_from_a_newer_medpay_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "notices.db"
    conn = sqlite3.connect(path, isolation_level=None)
    VersionTable("medpay_notice_claims_schema").write(conn, 2)
    conn.close()
    with pytest.raises(StoreError) as ei:
        SQLiteNoticeStore(path)
    assert ei.value.reason == "newer_schema" and str(path) in str(ei.value)
    assert "table medpay_notice_claims" in str(ei.value)


def test_the_docstring_examples_of_the_schema_module_run():
    import doctest

    from medpay_core import sqlite_schema

    result = doctest.testmod(sqlite_schema)
    assert result.attempted > 0 and result.failed == 0
