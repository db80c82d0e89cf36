"""Running the sandbox: :class:`SandboxServer` (a thread, for tests and the demo) and
:func:`serve` (the foreground server of ``medpay sandbox``)."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from typing import Any, Mapping, Optional, Union

from .._native import Credentials
from .center import EventHook
from .config import ConfigSource, SandboxConfig, generate_config, institution_credentials


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP, not 0: asyncio turns TCP_NODELAY on for the accepted connections only
    # when the listening socket says TCP; without it an answer written in two pieces waits
    # for the client's delayed ACK (about 40 ms a call).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


class ThreadedASGIServer:
    """Any ASGI app served by uvicorn on ``host`` in a daemon thread (``port=0``: a free
    port). The demo runs the institution's callback app with it."""

    def __init__(self, app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"):
        self.app = app
        self.host = host
        self.port = port
        self.log_level = log_level
        self._server: Any = None
        self._thread: Optional[threading.Thread] = None
        self._sock: Optional[socket.socket] = None

    @property
    def url(self) -> str:
        """``http://host:port``."""
        return f"http://{self.host}:{self.port}"

    def start(self, wait: float = 30.0) -> "ThreadedASGIServer":
        """Start; returns once the server accepts connections (or raises)."""
        import uvicorn

        sock = _bind(self.host, self.port)
        self.port = sock.getsockname()[1]
        self._sock = sock
        cfg = uvicorn.Config(self.app, log_level=self.log_level, lifespan="on", access_log=False)
        self._server = uvicorn.Server(cfg)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]},
                                        name="medpay-asgi", daemon=True)
        self._thread.start()
        # Bounded wait: started, or the thread died (e.g. the app failed to start).
        for _ in range(int(wait / 0.01)):
            if self._server.started or not self._thread.is_alive():
                break
            time.sleep(0.01)
        if not self._server.started:
            self.stop()
            raise RuntimeError("the server did not start")
        return self

    def stop(self) -> None:
        """Stop serving (after the lifespan's shutdown)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> "ThreadedASGIServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


class SandboxServer:
    """The sandbox on ``host`` (127.0.0.1) in a background thread.

    Without ``config`` a fresh one is generated (``self.raw_config`` holds it, with the
    institution's keys under ``"client"``); without ``db_path`` the database goes to a
    temporary directory removed by ``stop()``. ``port=0`` picks a free port.

    >>> # with SandboxServer() as sb:
    >>> #     client = MedpayClient(sb.url, sb.client_credentials())
    """

    def __init__(
        self,
        config: Optional[ConfigSource] = None,
        db_path: Optional[str] = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        on_event: Optional[EventHook] = None,
        log_level: str = "warning",
    ):
        self.raw_config: Optional[dict[str, Any]] = None
        if config is None:
            self.raw_config = generate_config()
            config = self.raw_config
        elif isinstance(config, Mapping):
            self.raw_config = dict(config)
        self._config = config
        self._tmp: Optional[tempfile.TemporaryDirectory[str]] = None
        if db_path is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="medpay-sandbox-")
            db_path = os.path.join(self._tmp.name, "sandbox.db")
        self.db_path = db_path
        self.host = host
        self.port = port
        self.on_event = on_event
        self.log_level = log_level
        self._runner: Optional[ThreadedASGIServer] = None
        self.app: Any = None

    @property
    def url(self) -> str:
        """``http://host:port`` (the client's base_url)."""
        return f"http://{self.host}:{self.port}"

    @property
    def sandbox(self) -> Any:
        """The running :class:`~.service.Sandbox` (orders, events, notifier)."""
        return self.app.state.sandbox

    def client_credentials(self, org_codg: Optional[str] = None) -> Credentials:
        """The institution's Credentials (its private key, the center's public key) from
        a generated config: :func:`~.config.institution_credentials` of this server's
        config, ``org_codg`` picking one of several institutions."""
        return institution_credentials(self.raw_config if self.raw_config is not None else self._config, org_codg)

    def start(self, wait: float = 30.0) -> "SandboxServer":
        """Start serving; returns once the server accepts connections."""
        from .app import create_sandbox_app

        # The database is locked from here (one sandbox per database: a second start on it
        # is a StoreError naming the file) until the app's lifespan closes the sandbox.
        self.app = create_sandbox_app(self._config, self.db_path, on_event=self.on_event)
        self._runner = ThreadedASGIServer(self.app, host=self.host, port=self.port, log_level=self.log_level)
        try:
            self._runner.start(wait)
        except BaseException:
            self._runner = None
            self.app.state.sandbox.close()  # the lifespan did not run: release the database here
            raise
        self.port = self._runner.port
        return self

    def stop(self) -> None:
        """Stop serving, stop the notice worker, remove a temporary database."""
        runner = getattr(self, "_runner", None)
        if runner is not None:
            runner.stop()
            self._runner = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve(config: Union[SandboxConfig, Mapping[str, Any], str], db_path: str, *, host: str = "127.0.0.1",
          port: int = 8000, log_level: str = "info", on_event: Optional[EventHook] = None) -> None:
    """Serve in the foreground until interrupted (``medpay sandbox``)."""
    import uvicorn

    from .app import create_sandbox_app

    app = create_sandbox_app(config, db_path, on_event=on_event)
    uvicorn.run(app, host=host, port=port, log_level=log_level, lifespan="on")
