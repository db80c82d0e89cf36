"""Schema versions of medpay's SQLite stores, and the lock that keeps one process on a file.

Every SQLite store of the package (the sandbox's database, :class:`SQLiteNoticeStore`)
records the version of its schema and brings an older file up to date in place when it
opens it: :func:`migrate` runs the steps the file lacks, in order, in one transaction
with the new version, so a crash leaves the old version or the new one, never half of
each. A file written by a newer medpay (a version above the last step) is refused with a
:class:`~medpay_core.errors.StoreError`: an older medpay cannot know what the newer one
changed. A file with no version (made before versions were recorded) is version 0.

>>> import sqlite3, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "x.db")
>>> conn = sqlite3.connect(path, isolation_level=None)
>>> steps = [lambda db: db.execute("CREATE TABLE t (a TEXT)")]
>>> migrate(conn, steps, UserVersion(), path=path, what="an example")
1
>>> conn.execute("PRAGMA user_version").fetchone()[0]
1
"""

from __future__ import annotations

import os
import sqlite3
import sys
from typing import IO, Any, Callable, Optional, Protocol, Sequence

from .errors import StoreError

__all__ = ["Migration", "VersionSlot", "UserVersion", "VersionTable", "migrate", "ExclusiveFileLock"]

#: One step of a schema: brings version ``i`` to ``i + 1`` inside the open transaction.
Migration = Callable[[sqlite3.Connection], Any]


class VersionSlot(Protocol):
    """Where a store keeps its schema version."""

    def read(self, db: sqlite3.Connection) -> int:
        """The recorded version (0: none recorded)."""

    def write(self, db: sqlite3.Connection, version: int) -> None:
        """Record ``version``, inside the caller's transaction."""


class UserVersion:
    """``PRAGMA user_version``: for a database file the store has to itself (the sandbox's).

    >>> UserVersion().read(sqlite3.connect(":memory:"))
    0
    """

    def read(self, db: sqlite3.Connection) -> int:
        return int(db.execute("PRAGMA user_version").fetchone()[0])

    def write(self, db: sqlite3.Connection, version: int) -> None:
        db.execute(f"PRAGMA user_version = {int(version)}")


class VersionTable:
    """A one-row table ``<name>``: for a store that may share its file with the
    application's own tables, whose ``user_version`` is the application's.

    >>> db = sqlite3.connect(":memory:")
    >>> slot = VersionTable("notices_schema")
    >>> slot.read(db)
    0
    >>> slot.write(db, 2); slot.read(db)
    2
    """

    def __init__(self, name: str):
        if not name.replace("_", "").isalnum():
            raise ValueError("a version table's name is letters, digits and '_'")
        self.name = name

    def read(self, db: sqlite3.Connection) -> int:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (self.name,)).fetchone()
        if not exists:
            return 0
        row = db.execute(f"SELECT version FROM {self.name} WHERE id = 1").fetchone()
        return int(row[0]) if row else 0

    def write(self, db: sqlite3.Connection, version: int) -> None:
        db.execute(f"CREATE TABLE IF NOT EXISTS {self.name} (id INTEGER PRIMARY KEY CHECK (id = 1),"
                   " version INTEGER NOT NULL)")
        db.execute(f"INSERT INTO {self.name} (id, version) VALUES (1, ?)"
                   " ON CONFLICT(id) DO UPDATE SET version = excluded.version", (int(version),))


def migrate(db: sqlite3.Connection, steps: Sequence[Migration], slot: VersionSlot, *, path: str, what: str) -> int:
    """Bring the schema of ``db`` (a connection in autocommit mode, ``isolation_level=None``)
    to version ``len(steps)``: the steps after its recorded version, in order, and the new
    version, in one ``BEGIN IMMEDIATE`` transaction. Returns the version. A version above
    ``len(steps)`` is a :class:`~medpay_core.errors.StoreError` (``newer_schema``) naming
    the file; a step that fails rolls everything back and is one too (``schema``).

    ``what`` names the store in messages (``"the sandbox database"``).
    """
    latest = len(steps)
    db.execute("BEGIN IMMEDIATE")
    try:
        found = slot.read(db)
        if found > latest:
            raise StoreError(
                f"{what} {path} has schema version {found}, written by a newer medpay; this version knows "
                f"versions up to {latest}: upgrade medpay (a database is never downgraded)",
                path=path, reason="newer_schema")
        for version in range(found, latest):
            try:
                steps[version](db)
            except sqlite3.Error as e:
                raise StoreError(f"{what} {path}: migrating its schema from version {version} to {version + 1} "
                                 f"failed ({e}); the file is unchanged", path=path, reason="schema") from None
        if found != latest:
            slot.write(db, latest)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")
    return latest


class ExclusiveFileLock:
    """An exclusive, non-blocking lock on ``path`` (created 0600 if absent), held until
    :meth:`release` or the end of the process (the system drops it then, even after a
    ``kill -9``). A second holder, in this process or another, gets a
    :class:`~medpay_core.errors.StoreError` (``in_use``) whose message is ``busy``
    followed by the path.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.lock")
    >>> lock = ExclusiveFileLock(path, busy="in use:", store=path)
    >>> try:
    ...     ExclusiveFileLock(path, busy="in use:", store=path)
    ... except StoreError as e:
    ...     e.reason
    'in_use'
    >>> lock.release()
    >>> ExclusiveFileLock(path, busy="in use:", store=path).release()
    """

    def __init__(self, path: str, *, busy: str, store: str):
        self.path = path
        self._file: Optional[IO[bytes]] = None
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        f = os.fdopen(fd, "r+b")
        try:
            _lock(f)
        except OSError:
            f.close()
            raise StoreError(f"{busy} {store}", path=store, reason="in_use") from None
        self._file = f

    def release(self) -> None:
        """Release the lock (again: nothing happens)."""
        f, self._file = self._file, None
        if f is not None:
            f.close()  # closing the file releases the lock


def _lock(f: IO[bytes]) -> None:
    if sys.platform == "win32":  # a byte-range lock on the first byte
        import msvcrt

        msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        # flock, not fcntl's POSIX locks: those are per process, so a second sandbox in
        # this process would get the lock too.
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
