"""How the clients' requests reach the center: the transports.

A transport POSTs one signed body and hands back what came of it: an :class:`Answer`
(status and body), or a :class:`Failed` that says, in the terms the client's retry
decision needs, whether the request can have reached the center (``sent``). It never
raises for a network failure, knows nothing of the protocol and reads no body beyond
``max_bytes``.

- :class:`HttpTransport`: the sync client's default, on the standard library's
  sockets with a keep-alive pool (cheaper than any HTTP client of Python's); an idle
  connection the center has closed is noticed before it is reused.
- :class:`AsyncioTransport`: the same on asyncio's own connections;
  :class:`DefaultAsyncTransport`, the async client's default, picks it under asyncio
  and :class:`AsyncHttpxTransport` under trio.
- :class:`AiohttpTransport`: an aiohttp session, for those who want aiohttp's stack.
- :class:`HttpxTransport` / :class:`AsyncHttpxTransport`: an ``httpx`` client of yours
  (its proxies, mounts, event hooks).

TLS is verified against the system's trust store unless ``ssl_context`` says otherwise
(a private CA, or a client certificate for mTLS); ``proxy`` is an ``http://[user:pass@]
host:port`` URL (HTTPS goes through it by CONNECT). Proxy variables of the environment are
not read: a payment client's route is configured, not inherited.

>>> from medpay_core.transport import HttpTransport
>>> t = HttpTransport(timeout=10, proxy="http://proxy.hospital.local:3128")
>>> t.close()
"""

from __future__ import annotations

import asyncio
import base64
import select
import socket
import ssl
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, NamedTuple, Optional, Protocol, Tuple, Union
from urllib.parse import unquote, urlsplit

from .http1 import ProtocolError, ResponseParser, connect_head, request_head

if TYPE_CHECKING:  # imported where used: neither is needed by the other transports
    import aiohttp
    import httpx

__all__ = [
    "Answer",
    "Failed",
    "Reply",
    "Transport",
    "AsyncTransport",
    "HttpTransport",
    "AsyncioTransport",
    "AiohttpTransport",
    "HttpxTransport",
    "AsyncHttpxTransport",
    "DefaultAsyncTransport",
]


@dataclass(frozen=True)
class Answer:
    """What came back: the status and the body; ``too_large`` when the body passed
    ``max_bytes`` (reading stopped and ``body`` is empty).

    >>> Answer(200, b"{}").status
    200
    """

    status: int
    body: bytes
    too_large: bool = False


@dataclass(frozen=True)
class Failed:
    """No complete answer. ``what`` names the failure (``ConnectError``, ``ReadTimeout``,
    ``RemoteDisconnected``), ``detail`` says more; ``sent`` is whether the request can
    have reached the center (False only when it provably did not: the connection was never
    made); ``cause`` is the underlying exception.

    >>> Failed("ConnectError", "connection refused", sent=False).sent
    False
    """

    what: str
    detail: str
    sent: bool
    timed_out: bool = False
    cause: Optional[BaseException] = None


Reply = Union[Answer, Failed]


class Transport(Protocol):
    """What the sync client needs of a transport: any object with these two methods (a
    protocol, as mypy checks it). ``timeout`` is seconds for connecting and for each read,
    None for the transport's own.

    >>> class Recording(HttpTransport):
    ...     def post(self, url, body, headers, timeout, max_bytes):
    ...         print("POST", url)
    ...         return super().post(url, body, headers, timeout, max_bytes)
    """

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
             max_bytes: int) -> Reply:
        """POST ``body`` to ``url``; an Answer, or a Failed saying whether it was sent."""
        ...

    def close(self) -> None:
        """Close the idle connections (nothing, for a transport that keeps none).

        >>> # transport.close()
        """


class AsyncTransport(Protocol):
    """What the async client needs of a transport: :class:`Transport`'s methods as
    coroutines (``aclose`` for ``close``).

    >>> # class Mine(AsyncTransport): async def post(self, url, body, headers, timeout, max_bytes): ...
    """

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
                   max_bytes: int) -> Reply:
        """POST ``body`` to ``url``; an Answer, or a Failed saying whether it was sent."""
        ...

    async def aclose(self) -> None:
        """Close the connections.

        >>> # await transport.aclose()
        """


class _Proxy(NamedTuple):
    host: str
    port: int
    headers: Dict[str, str]  # Proxy-Authorization, when the URL has credentials
    url: str


def _proxy(url: Optional[str]) -> Optional[_Proxy]:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError("proxy is an http://[user:password@]host:port URL")
    headers = {}
    if parts.username is not None:
        token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        headers["Proxy-Authorization"] = "Basic " + base64.b64encode(token).decode()
    return _Proxy(parts.hostname, parts.port or 80, headers, url)


def timeout_seconds(timeout: Optional[float]) -> Optional[float]:
    """A timeout as seconds (None: none), checked: a positive number, not a bool.

    >>> timeout_seconds(10), timeout_seconds(None)
    (10.0, None)
    """
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError("timeout is positive seconds")
    return float(timeout)


class _Target(NamedTuple):
    scheme: str
    host: str
    port: int
    path: str
    netloc: str  # host[:port] as the URL has it: the Host header


@lru_cache(maxsize=1024)
def _target(url: str) -> _Target:
    # Cached: a client posts to six URLs per center.
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target(parts.scheme, parts.hostname, port, path, parts.netloc.rpartition("@")[2])


def _authority(target: _Target) -> str:
    """host:port as CONNECT names it (an IPv6 address in brackets)."""
    host = f"[{target.host}]" if ":" in target.host else target.host
    return f"{host}:{target.port}"


def _idle_and_open(sock: Optional[socket.socket]) -> bool:
    """Whether a pooled connection can carry a request: an idle socket that is readable
    has been closed by the center (EOF) or holds bytes nobody asked for; either way it
    must not be reused, and finding out now keeps the request unambiguous."""
    if sock is None:
        return False
    try:
        if hasattr(select, "poll"):
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return not poller.poll(0)
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable
    except (OSError, ValueError):
        return False


def _reachable(url: str) -> Union[_Target, Failed]:
    """The URL's target, or Failed for one no request can go to (no host, a bad port):
    every transport checks it first, so that such a URL is never taken as sent."""
    try:
        return _target(url)
    except ValueError as e:
        return Failed("InvalidURL", str(e), sent=False, cause=e)


def _prepared(url: str, body: bytes, headers: Mapping[str, str],
              proxy: Optional[_Proxy]) -> Union[Tuple[_Target, bytes], Failed]:
    """The target of a POST and the bytes to write (head and body), or Failed when a
    header would split the request (nothing was sent)."""
    target = _reachable(url)
    if isinstance(target, Failed):
        return target
    through_proxy = proxy is not None and target.scheme == "http"  # by absolute URI
    try:
        head = request_head(url if through_proxy else target.path, target.netloc,
                            {**headers, **proxy.headers} if through_proxy and proxy else headers, len(body))
    except ValueError as e:
        return Failed("InvalidHeader", str(e), sent=False, cause=e)
    return target, head + body


_TIMEOUTS = (socket.timeout, TimeoutError, asyncio.TimeoutError)


def _within(timeout: Optional[float]) -> str:
    return "" if timeout is None else f" within {timeout:g}s"


def _not_connected(e: BaseException, timeout: Optional[float]) -> Failed:
    """No connection was made: nothing reached the center."""
    if isinstance(e, _TIMEOUTS):
        return Failed("ConnectTimeout", f"no connection{_within(timeout)}", sent=False, timed_out=True, cause=e)
    return Failed("ConnectError", str(e) or type(e).__name__, sent=False, cause=e)


def _no_answer(e: BaseException, timeout: Optional[float]) -> Failed:
    """The request was written, or partly: the center may have it."""
    if isinstance(e, _TIMEOUTS):
        return Failed("ReadTimeout", f"no answer{_within(timeout)}", sent=True, timed_out=True, cause=e)
    return Failed(type(e).__name__, str(e) or "the connection was closed", sent=True, cause=e)


class _Conn:
    """A kept-alive connection of :class:`HttpTransport` and the timeout its socket has."""

    __slots__ = ("sock", "timeout")

    def __init__(self, sock: socket.socket, timeout: Optional[float]) -> None:
        self.sock, self.timeout = sock, timeout

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


def _read_answer(sock: socket.socket, parser: ResponseParser) -> None:
    while not parser.done:
        data = sock.recv(65536)
        if not data:
            parser.eof()
            return
        parser.feed(data)


class HttpTransport(Transport):
    """The sync client's transport: HTTP/1.1 on the standard library's sockets and
    ``ssl``, one write per request, connections kept alive in a pool per host; safe to
    share between threads (each request has a connection to itself). About half the CPU
    of ``http.client`` per request (bench/), which parses every answer's head with the
    ``email`` package.

    ``max_idle`` connections per host are kept for reuse; ``ssl_context`` replaces the
    default verification (``ssl.create_default_context()``); ``proxy`` as the module says.

    >>> import ssl
    >>> ctx = ssl.create_default_context(cafile=None)  # or cafile="center-ca.pem"
    >>> HttpTransport(timeout=10, ssl_context=ctx).close()
    """

    def __init__(self, *, timeout: float = 30.0, ssl_context: Optional[ssl.SSLContext] = None,
                 proxy: Optional[str] = None, max_idle: int = 32) -> None:
        self._timeout = timeout_seconds(timeout)
        self._ssl = ssl_context
        self._proxy = _proxy(proxy)
        self._max_idle = max_idle
        self._idle: Dict[Tuple[str, str, int], List[_Conn]] = {}
        self._lock = threading.Lock()

    def _ssl_context(self) -> ssl.SSLContext:
        if self._ssl is None:
            self._ssl = ssl.create_default_context()  # made once, on the first HTTPS request
        return self._ssl

    def _connect(self, target: _Target, timeout: Optional[float]) -> socket.socket:
        """A connection to the center (through the proxy's tunnel for HTTPS), TLS done."""
        if self._proxy is None:
            sock = socket.create_connection((target.host, target.port), timeout)
        else:
            sock = socket.create_connection((self._proxy.host, self._proxy.port), timeout)
            if target.scheme == "https":
                try:
                    sock.sendall(connect_head(_authority(target), self._proxy.headers))
                    parser = ResponseParser(0, connect=True)
                    _read_answer(sock, parser)
                except BaseException:
                    sock.close()
                    raise
                if parser.status != 200:
                    sock.close()
                    raise ConnectionError(f"the proxy refused the tunnel: HTTP {parser.status}")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if target.scheme == "https":
            try:
                return self._ssl_context().wrap_socket(sock, server_hostname=target.host)
            except BaseException:
                sock.close()
                raise
        return sock

    def _checkout(self, key: Tuple[str, str, int]) -> Optional[_Conn]:
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                if _idle_and_open(conn.sock):
                    return conn
                conn.close()
        return None

    def _checkin(self, key: Tuple[str, str, int], conn: _Conn) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self._max_idle:
                idle.append(conn)
                return
        conn.close()

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
             max_bytes: int) -> Reply:
        """POST ``body``; the answer, or how it failed.

        >>> # HttpTransport().post(url, body, {"Content-Type": "application/json"}, 10, 1 << 20)
        """
        prepared = _prepared(url, body, headers, self._proxy)
        if isinstance(prepared, Failed):
            return prepared
        target, data = prepared
        timeout = self._timeout if timeout is None else timeout
        key = target[:3]
        conn = self._checkout(key)
        if conn is None:
            try:
                conn = _Conn(self._connect(target, timeout), timeout)
            except (OSError, ProtocolError) as e:  # refused, DNS, TLS handshake, the proxy
                return _not_connected(e, timeout)
        parser = ResponseParser(max_bytes)
        try:
            if conn.timeout != timeout:
                conn.sock.settimeout(timeout)
                conn.timeout = timeout
            conn.sock.sendall(data)  # one write: no second packet to wait for
            _read_answer(conn.sock, parser)
        except (OSError, ProtocolError) as e:
            conn.close()
            return _no_answer(e, timeout)
        if parser.keep_alive and not parser.leftover:
            self._checkin(key, conn)
        else:
            conn.close()
        return Answer(parser.status, parser.body(), too_large=parser.too_large)

    def close(self) -> None:
        """Close the idle connections (a request in flight finishes on its own).

        >>> HttpTransport().close()
        """
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


class _Http1Protocol(asyncio.Protocol):
    """One connection of :class:`AsyncioTransport`: the answer to the request in flight,
    parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: Optional[asyncio.Transport] = None
        self.parser: Optional[ResponseParser] = None
        self.waiter: Optional[asyncio.Future[ResponseParser]] = None
        self.closed = False
        self.timeout: Optional[float] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        if parser is None:  # bytes nobody asked for: this connection is not to be trusted
            self.close()
            return
        try:
            parser.feed(data)
        except ProtocolError as e:
            self._fail(e)
            return
        if parser.done:
            self._settle()

    def eof_received(self) -> Optional[bool]:
        self._ended(None)
        return False

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self._ended(exc)

    def _ended(self, exc: Optional[Exception]) -> None:
        self.closed = True
        parser = self.parser
        if parser is not None:
            try:
                parser.eof()
            except ProtocolError as e:
                self._fail(exc or e)
                return
            self._settle()

    def _settle(self) -> None:
        waiter, parser = self.waiter, self.parser
        self.parser = self.waiter = None
        if waiter is not None and not waiter.done() and parser is not None:
            waiter.set_result(parser)

    def _fail(self, exc: BaseException) -> None:
        waiter = self.waiter
        self.parser = self.waiter = None
        self.close()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    async def exchange(self, data: bytes, parser: ResponseParser, timeout: Optional[float],
                       send: Optional[Callable[[asyncio.Transport, bytes], None]] = None) -> ResponseParser:
        """Write ``data`` (now, or by ``send``) and wait for the answer."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self.parser, self.waiter = parser, loop.create_future()
        waiter = self.waiter
        timer = None if timeout is None else loop.call_later(
            timeout, self._fail, TimeoutError(f"no answer{_within(timeout)}"))
        try:
            if send is None:
                self.transport.write(data)
            else:
                send(self.transport, data)
            return await waiter
        except BaseException:
            self.close()  # cancelled or failed mid-answer: the connection's state is unknown
            raise
        finally:
            if timer is not None:
                timer.cancel()


class AsyncioTransport(AsyncTransport):
    """The async client's transport under asyncio: HTTP/1.1 on asyncio's own connections
    (one write per request, the requests of one turn of the loop written together, the
    answer parsed in ``data_received``), kept alive in a pool per host, at most ``limit``
    open at once. A third of aiohttp's CPU per request (bench/).

    >>> # AsyncMedpayClient(url, creds, transport=AsyncioTransport(limit=200, proxy="http://proxy:3128"))
    """

    def __init__(self, *, timeout: float = 30.0, ssl_context: Optional[ssl.SSLContext] = None,
                 proxy: Optional[str] = None, limit: int = 100) -> None:
        if limit < 1:
            raise ValueError("limit >= 1")
        self._timeout = timeout_seconds(timeout)
        self._ssl = ssl_context
        self._proxy = _proxy(proxy)
        self._limit = limit
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._idle: Dict[Tuple[str, str, int], List[_Http1Protocol]] = {}
        self._slots: Optional[asyncio.Semaphore] = None
        self._outbox: List[Tuple[asyncio.Transport, bytes]] = []

    def _send_soon(self, transport: asyncio.Transport, data: bytes) -> None:
        """Write ``data`` at the end of this turn of the loop, with every other request
        made in it: requests go out in bursts, so the center's side (often a sleeping
        virtual CPU) is woken once per burst, not once per request, which on a VM cost
        the client more CPU than all of its HTTP (bench/: the async round trip)."""
        if not self._outbox:
            asyncio.get_running_loop().call_soon(self._flush)
        self._outbox.append((transport, data))

    def _flush(self) -> None:
        out, self._outbox = self._outbox, []
        for transport, data in out:
            if not transport.is_closing():  # closed meanwhile: its exchange fails on its own
                transport.write(data)

    def _bind(self) -> asyncio.Semaphore:
        # Connections belong to one event loop: another loop starts a pool of its own.
        loop = asyncio.get_running_loop()
        if loop is not self._loop or self._slots is None:
            self._loop, self._idle, self._slots, self._outbox = loop, {}, asyncio.Semaphore(self._limit), []
        return self._slots

    async def _connect(self, target: _Target) -> _Http1Protocol:
        loop = asyncio.get_running_loop()
        tls = None
        if target.scheme == "https":
            if self._ssl is None:
                self._ssl = ssl.create_default_context()
            tls = self._ssl
        if self._proxy is None:
            _, proto = await loop.create_connection(_Http1Protocol, target.host, target.port, ssl=tls,
                                                    server_hostname=target.host if tls else None)
            return proto
        _, proto = await loop.create_connection(_Http1Protocol, self._proxy.host, self._proxy.port)
        if tls is None:
            return proto
        try:
            answer = await proto.exchange(connect_head(_authority(target), self._proxy.headers),
                                          ResponseParser(0, connect=True), None)
            if answer.status != 200:
                raise ConnectionError(f"the proxy refused the tunnel: HTTP {answer.status}")
            assert proto.transport is not None
            proto.transport = await loop.start_tls(proto.transport, proto, tls,
                                                   server_hostname=target.host)
        except BaseException:
            proto.close()
            raise
        return proto

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
                   max_bytes: int) -> Reply:
        """POST ``body``; the answer, or how it failed.

        >>> # await AsyncioTransport().post(url, body, headers, 10, 1 << 20)
        """
        prepared = _prepared(url, body, headers, self._proxy)
        if isinstance(prepared, Failed):
            return prepared
        target, data = prepared
        t = self._timeout if timeout is None else timeout
        slots = self._bind()
        key = target[:3]
        async with slots:
            idle = self._idle.get(key)
            proto = None
            while idle:
                candidate = idle.pop()
                if not candidate.closed:
                    proto = candidate
                    break
            if proto is None:
                try:
                    proto = await asyncio.wait_for(self._connect(target), t)
                except (asyncio.TimeoutError, OSError, ProtocolError) as e:  # refused, DNS, TLS, the proxy
                    return _not_connected(e, t)
            try:
                parser = await proto.exchange(data, ResponseParser(max_bytes), t, self._send_soon)
            except (OSError, ProtocolError) as e:  # TimeoutError among them
                return _no_answer(e, t)
            if parser.keep_alive and not parser.leftover and not proto.closed:
                self._idle.setdefault(key, []).append(proto)
            else:
                proto.close()
            return Answer(parser.status, parser.body(), too_large=parser.too_large)

    async def aclose(self) -> None:
        """Close the idle connections.

        >>> # await transport.aclose()
        """
        idle, self._idle = self._idle, {}
        for protos in idle.values():
            for proto in protos:
                proto.close()


class _Chunks:
    """An answer's body as another client library streams it, kept up to ``max_bytes``."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes, self.size = max_bytes, 0
        self.parts: List[bytes] = []

    def add(self, chunk: bytes) -> bool:
        """Keep ``chunk``; False once past max_bytes (stop reading)."""
        self.size += len(chunk)
        if self.size > self.max_bytes:
            self.parts = []
            return False
        self.parts.append(chunk)
        return True

    def answer(self, status: int) -> Answer:
        too_large = self.size > self.max_bytes
        return Answer(status, b"" if too_large else b"".join(self.parts), too_large=too_large)


def _aiohttp() -> Any:
    try:
        import aiohttp
    except ImportError as e:  # pragma: no cover - aiohttp is a dependency
        raise ImportError("the async client needs aiohttp: pip install aiohttp") from e
    return aiohttp


class AiohttpTransport(AsyncTransport):
    """The async client's transport under asyncio: one ``aiohttp.ClientSession`` (made on
    the first request, in the running loop), at most ``limit`` connections.

    >>> # AsyncMedpayClient(url, creds, transport=AiohttpTransport(limit=200, proxy="http://proxy:3128"))
    """

    def __init__(self, *, timeout: float = 30.0, ssl_context: Optional[ssl.SSLContext] = None,
                 proxy: Optional[str] = None, limit: int = 100) -> None:
        self._timeout = timeout_seconds(timeout)
        self._ssl = ssl_context
        self._proxy = _proxy(proxy)
        self._limit = limit
        self._session: Optional[aiohttp.ClientSession] = None
        self._timeouts: Dict[Optional[float], Any] = {}
        self._aiohttp = aiohttp = _aiohttp()
        # ConnectionTimeoutError (aiohttp 3.10+) is a timeout before anything was sent.
        self._not_connected = aiohttp.ClientConnectorError
        self._connect_timeout = getattr(aiohttp, "ConnectionTimeoutError", ())
        self._client_error = aiohttp.ClientError

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = self._aiohttp.TCPConnector(limit=self._limit,
                                                   ssl=self._ssl if self._ssl is not None else True)
            self._session = self._aiohttp.ClientSession(connector=connector, trust_env=False, auto_decompress=False,
                                                        timeout=self._client_timeout(self._timeout))
        return self._session

    def _client_timeout(self, timeout: Optional[float]) -> Any:
        t = self._timeouts.get(timeout)
        if t is None:
            t = self._timeouts[timeout] = self._aiohttp.ClientTimeout(total=None, connect=timeout, sock_read=timeout)
        return t

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
                   max_bytes: int) -> Reply:
        """POST ``body``; the answer, or how it failed.

        >>> # await AiohttpTransport().post(url, body, headers, 10, 1 << 20)
        """
        if isinstance(bad := _reachable(url), Failed):
            return bad
        session = self._open()
        t = self._timeout if timeout is None else timeout
        try:
            async with session.post(url, data=body, headers=headers, allow_redirects=False,
                                    proxy=self._proxy.url if self._proxy else None,
                                    timeout=self._client_timeout(t)) as resp:
                length = resp.content_length
                if length is not None:
                    if length > max_bytes:
                        resp.close()
                        return Answer(resp.status, b"", too_large=True)
                    return Answer(resp.status, await resp.read())
                got = _Chunks(max_bytes)
                async for chunk in resp.content.iter_chunked(65536):
                    if not got.add(chunk):
                        resp.close()
                        break
                return got.answer(resp.status)
        except self._not_connected as e:  # refused, DNS, TLS handshake, the proxy
            return Failed("ConnectError", str(e) or type(e).__name__, sent=False, cause=e)
        except self._connect_timeout as e:
            return Failed("ConnectTimeout", f"no connection{_within(t)}", sent=False, timed_out=True, cause=e)
        except asyncio.TimeoutError as e:  # aiohttp's read timeout is one too
            return Failed("ReadTimeout", f"no answer{_within(t)}", sent=True, timed_out=True, cause=e)
        except (self._client_error, OSError) as e:
            return _no_answer(e, t)

    async def aclose(self) -> None:
        """Close the session and its connections.

        >>> # await transport.aclose()
        """
        if self._session is not None:
            await self._session.close()
            self._session = None


def _httpx_failure(e: httpx.HTTPError) -> Failed:
    import httpx

    # Raised before any byte of the request was written: it did not reach the center.
    not_sent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)
    what = type(e).__name__
    return Failed(what, str(e) or what, sent=not isinstance(e, not_sent),
                  timed_out=isinstance(e, httpx.TimeoutException), cause=e)


def _httpx_timeout(timeout: Optional[float]) -> Any:
    import httpx

    return httpx.USE_CLIENT_DEFAULT if timeout is None else httpx.Timeout(timeout)


class HttpxTransport(Transport):
    """An ``httpx.Client`` of yours as the sync client's transport (its proxies, mounts,
    event hooks). The client stays yours: ``close`` leaves it open.

    >>> import httpx
    >>> HttpxTransport(httpx.Client(timeout=10)).close()
    """

    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
             max_bytes: int) -> Reply:
        """POST ``body`` with the httpx client.

        >>> # HttpxTransport(httpx.Client()).post(url, body, headers, 10, 1 << 20)
        """
        import httpx

        if isinstance(bad := _reachable(url), Failed):
            return bad
        try:
            with self.client.stream("POST", url, content=body, headers=headers,
                                    timeout=_httpx_timeout(timeout)) as resp:
                got = _Chunks(max_bytes)
                for chunk in resp.iter_bytes():
                    if not got.add(chunk):
                        break
                return got.answer(resp.status_code)
        except httpx.HTTPError as e:
            return _httpx_failure(e)
        except OSError as e:  # an ssl or socket error httpx let through (seen from its async client)
            return _no_answer(e, timeout)


class AsyncHttpxTransport(AsyncTransport):
    """An ``httpx.AsyncClient`` as the async client's transport: yours when you pass one
    (``aclose`` leaves it open), else one of its own (made under trio, where aiohttp
    does not run).

    >>> import httpx
    >>> t = AsyncHttpxTransport(httpx.AsyncClient(timeout=10))
    """

    def __init__(self, client: Optional[httpx.AsyncClient] = None, *, timeout: float = 30.0,
                 ssl_context: Optional[ssl.SSLContext] = None, proxy: Optional[str] = None) -> None:
        import httpx

        _proxy(proxy)  # the same proxy URLs as the other transports
        self._owned = client is None
        self.client = client if client is not None else httpx.AsyncClient(
            timeout=timeout_seconds(timeout), verify=ssl_context if ssl_context is not None else True, proxy=proxy,
            trust_env=False, follow_redirects=False)

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
                   max_bytes: int) -> Reply:
        """POST ``body`` with the httpx client.

        >>> # await AsyncHttpxTransport().post(url, body, headers, 10, 1 << 20)
        """
        import httpx

        if isinstance(bad := _reachable(url), Failed):
            return bad
        try:
            async with self.client.stream("POST", url, content=body, headers=headers,
                                          timeout=_httpx_timeout(timeout)) as resp:
                got = _Chunks(max_bytes)
                async for chunk in resp.aiter_bytes():
                    if not got.add(chunk):
                        break
                return got.answer(resp.status_code)
        except httpx.HTTPError as e:
            return _httpx_failure(e)
        except OSError as e:  # an ssl or socket error httpx let through (seen from its async client)
            return _no_answer(e, timeout)

    async def aclose(self) -> None:
        """Close the client if it is this transport's own.

        >>> # await transport.aclose()
        """
        if self._owned:
            await self.client.aclose()


class DefaultAsyncTransport(AsyncTransport):
    """The async client's default: :class:`AsyncioTransport` under asyncio,
    :class:`AsyncHttpxTransport` under trio, chosen at the first request with the same
    settings.

    >>> # AsyncMedpayClient(url, creds)  # uses DefaultAsyncTransport(timeout=30)
    """

    def __init__(self, *, timeout: float = 30.0, ssl_context: Optional[ssl.SSLContext] = None,
                 proxy: Optional[str] = None) -> None:
        self._settings = dict(timeout=timeout_seconds(timeout), ssl_context=ssl_context, proxy=proxy)
        _proxy(proxy)  # refused now, not at the first request
        self._chosen: Optional[AsyncTransport] = None

    def _choose(self) -> AsyncTransport:
        if self._chosen is None:
            import sniffio

            if sniffio.current_async_library() == "asyncio":
                self._chosen = AsyncioTransport(**self._settings)  # type: ignore[arg-type]
            else:
                self._chosen = AsyncHttpxTransport(**self._settings)  # type: ignore[arg-type]
        return self._chosen

    async def post(self, url: str, body: bytes, headers: Mapping[str, str], timeout: Optional[float],
                   max_bytes: int) -> Reply:
        """POST with the transport of the running event loop's library.

        >>> # await DefaultAsyncTransport().post(url, body, headers, 10, 1 << 20)
        """
        return await self._choose().post(url, body, headers, timeout, max_bytes)

    async def aclose(self) -> None:
        """Close the chosen transport.

        >>> # await transport.aclose()
        """
        if self._chosen is not None:
            await self._chosen.aclose()
            self._chosen = None
