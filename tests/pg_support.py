"""A throwaway PostgreSQL cluster for the tests: ``initdb`` into a temporary directory,
``pg_ctl start`` on a free port of 127.0.0.1, stopped and deleted at the end.

The binaries are Debian's (``/usr/lib/postgresql/<version>/bin``, installed by
``make postgres``) or whatever ``pg_ctl`` is on PATH. PostgreSQL refuses to run as root,
so as root the cluster runs as the ``postgres`` user (or ``nobody``) via ``runuser``.
Without PostgreSQL the tests that need it skip, saying why, except under ``CI``, where
they fail: CI must run them.

Use the ``pg_conninfo`` fixture (import it into the test module)::

    from pg_support import pg_cluster, pg_conninfo  # noqa: F401
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator, Optional

import pytest


def pg_bin_dir() -> Optional[Path]:
    """The directory of initdb/pg_ctl, newest Debian version first; None if absent."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    dirs = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda d: int(d.split("/")[-2]) if d.split("/")[-2].isdigit() else 0)
    for d in reversed(dirs):
        if os.access(os.path.join(d, "pg_ctl"), os.X_OK) and os.access(os.path.join(d, "initdb"), os.X_OK):
            return Path(d)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A running cluster; ``conninfo`` reaches its ``postgres`` database as superuser."""

    def __init__(self, bin_dir: Path):
        self.bin = bin_dir
        self.dir = Path(tempfile.mkdtemp(prefix="medpay-pg-"))
        self.data = self.dir / "data"
        self.port = _free_port()
        self.user: Optional[str] = None
        if os.geteuid() == 0:
            # initdb and postgres refuse to run as root.
            for name in ("postgres", "nobody"):
                try:
                    pw = pwd.getpwnam(name)
                except KeyError:
                    continue
                self.user = name
                os.chown(self.dir, pw.pw_uid, pw.pw_gid)
                break
            else:
                raise RuntimeError("running as root and no 'postgres' or 'nobody' user to run PostgreSQL as")
        self.conninfo = f"host=127.0.0.1 port={self.port} user=medpay dbname=postgres connect_timeout=10"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.user is not None:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if proc.returncode != 0:
            log = self.dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({proc.returncode}): {proc.stdout[-2000:]}\n{tail}")

    def start(self) -> "Cluster":
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "medpay", "--auth=trust",
                  "-E", "UTF8", "--no-locale", "--no-sync")
        # Throwaway: no fsync. Unix sockets in our own directory, TCP on 127.0.0.1 only.
        opts = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=200"
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.dir / "server.log"),
                  "-w", "start")
        return self

    def stop(self) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"PostgreSQL tests must run under CI: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One cluster for the session (skips, or fails under CI, without PostgreSQL)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        _unavailable("psycopg is not installed (pip install 'psycopg[binary]>=3.1', the test extra)")
    bin_dir = pg_bin_dir()
    if bin_dir is None:
        _unavailable("PostgreSQL is not installed (no pg_ctl on PATH or in /usr/lib/postgresql/*/bin;"
                     " `make postgres` or apt-get install postgresql)")
        raise AssertionError  # not reached
    cluster = Cluster(bin_dir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_conninfo(pg_cluster: Cluster) -> Iterator[str]:
    """A fresh database of the session's cluster, for one test."""
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_cluster.conninfo, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    yield pg_cluster.conninfo.replace("dbname=postgres", f"dbname={name}")
    with psycopg.connect(pg_cluster.conninfo, autocommit=True) as c:
        c.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
