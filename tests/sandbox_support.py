"""Helpers of the sandbox, CLI and example tests (a module of helpers, not of tests, so
that test files never import each other): a stand-in institution that records 6302
notices and 6204 redirects, configs, and a sandbox run as a subprocess that can be
killed."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator, Optional
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

import medpay_core as mp
from medpay_core.callbacks import read_json_object
from medpay_core.sandbox import generate_config, institution_credentials


def wait_until(pred: Callable[[], Any], *, tries: int = 1000, step: float = 0.02) -> Any:
    """Poll ``pred`` a bounded number of times; return its first truthy value or fail."""
    for _ in range(tries):
        v = pred()
        if v:
            return v
        time.sleep(step)
    raise AssertionError("condition not reached")


class NoticeSink:
    """The institution's notifyUrl and returnUrl on 127.0.0.1.

    ``mode``: "ok" answers success=true, "fail" success=false, "500" an HTTP error,
    "raw" the bytes of ``raw_reply`` (a hostile reply).
    ``form``: "nested" replies ``{"code":"0","msg":..,"data":{"success":..}}``, "flat"
    ``{"success":..,"message":..}`` (both are forms institutions use).
    ``acked`` lists the payOrdIds acknowledged with success=true (in order)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.raw_reply = b""
        self.form = "nested"
        self.codecs: dict[str, mp.EnvelopeCodec] = {}
        self.posts: list[dict[str, Any]] = []
        self.acked: list[str] = []
        self.returns: list[dict[str, str]] = []
        self._cv = threading.Condition()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                doc = read_json_object(body)
                if doc.get("signData"):
                    data, signed = sink.codecs[doc["appId"]].unpack(body).data, True
                else:
                    data, signed = doc, False
                mode = sink.mode
                with sink._cv:
                    sink.posts.append({"data": data, "signed": signed, "mode": mode})
                    if mode == "ok":
                        sink.acked.append(data["payOrdId"])
                    sink._cv.notify_all()
                if mode == "500":
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                reply = {"success": mode == "ok", "message": mode}
                if sink.form == "nested":
                    reply = {"code": "0", "msg": "ok", "data": reply}
                out = sink.raw_reply if mode == "raw" else json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def do_GET(self) -> None:  # noqa: N802
                with sink._cv:
                    sink.returns.append(dict(parse_qsl(urlsplit(self.path).query)))
                    sink._cv.notify_all()
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def notify_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notify"

    @property
    def return_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/return"

    def wait_acked(self, n: int, tries: int = 1500) -> list[str]:
        """Block (bounded) until ``n`` notices were acknowledged."""
        with self._cv:
            for _ in range(tries):
                if len(self.acked) >= n:
                    return list(self.acked)
                self._cv.wait(0.02)
        raise AssertionError(f"{len(self.acked)} notices acknowledged, expected {n}")

    def wait_posts(self, n: int, tries: int = 1500) -> None:
        with self._cv:
            for _ in range(tries):
                if len(self.posts) >= n:
                    return
                self._cv.wait(0.02)
        raise AssertionError(f"{len(self.posts)} notices posted, expected {n}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def make_config(sink: NoticeSink, *, institutions: int = 1, fast: bool = True, **top: Any) -> dict[str, Any]:
    """A fresh config whose institutions notify ``sink``; the sink can read their
    signed notices."""
    raw = generate_config(notify_url=sink.notify_url, return_url=sink.return_url, institutions=institutions,
                          org_codg="H00000000001")
    if fast:
        raw["notify"] = {"maxAttempts": 50, "baseDelay": 0.02, "maxDelay": 0.2, "timeout": 5.0}
    raw.update(top)
    for c in raw["client"]:
        sink.codecs[c["appId"]] = mp.EnvelopeCodec(mp.Credentials(
            c["appId"], c["appSecret"], c["privateKey"], c["peerPublicKey"]))
    return raw


def client_credentials(raw: dict[str, Any], i: int = 0) -> mp.Credentials:
    """The ``i``-th institution's credentials of a :func:`make_config` config."""
    return institution_credentials(raw, org_codg=raw["institutions"][i]["orgCodg"])


def hostile_bodies(app_id: str, envelope: bytes) -> dict[str, bytes]:
    """Bodies the stdlib json module reads wrongly or crashes on, each close to a real
    one: ``envelope`` (a real, signed one for ``app_id``) with a duplicated appId, an
    envelope with a NaN, one nested 10,000 deep. Every entry point must refuse each with
    its typed refusal."""
    head = b'{"appId":"' + app_id.encode() + b'",'
    return {
        # stdlib json takes the last of two keys: here, the real appId.
        "duplicate key": b'{"appId":"SOMEONEELSE0000000000",' + envelope[1:],
        "NaN": head + b'"data":{"payOrdId":"ORD1","feeSumamt":NaN}}',
        # stdlib json raises RecursionError (not a ValueError) on this.
        "10,000-deep nesting": head + b'"data":' + b"[" * 10_000 + b"]" * 10_000 + b"}",
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SandboxProcess:
    """``medpay sandbox`` in a subprocess, on a fixed port so a restart keeps the URL."""

    def __init__(self, config_path: Optional[str], db_path: str, port: Optional[int] = None):
        self.config_path, self.db_path = config_path, db_path
        self.port = port or free_port()
        self.proc: Optional[subprocess.Popen] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "SandboxProcess":
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        config = ["--config", self.config_path] if self.config_path else []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "medpay_core.cli", "sandbox", *config,
             "--port", str(self.port), "--db", self.db_path, "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)

        def up() -> bool:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"sandbox exited: {self.proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                return httpx.get(self.url + "/sandbox/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, tries=1500)
        return self

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(30)
            if self.proc.stderr:
                self.proc.stderr.close()
            self.proc = None

    def order(self, pay_ord_id: str) -> Optional[dict[str, Any]]:
        r = httpx.get(f"{self.url}/sandbox/orders/{pay_ord_id}", timeout=5)
        return r.json() if r.status_code == 200 else None


# Fixtures shared by the sandbox test modules (imported by name there). `sb` runs the
# sandbox of the module's own `raw` config.
@pytest.fixture
def sink() -> Iterator[NoticeSink]:
    s = NoticeSink()
    yield s
    s.close()


@pytest.fixture
def sb(raw: dict[str, Any]) -> Iterator[Any]:
    from medpay_core.sandbox import SandboxServer

    with SandboxServer(raw) as server:
        yield server
