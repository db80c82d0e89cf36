"""The transports on their own, against real HTTP servers on 127.0.0.1: a plain one whose
answers a test sets, an HTTPS one with a private CA made by the ``openssl`` CLI, and a
forward proxy (absolute-URI requests and CONNECT tunnels).

Every test runs with each of the five transports (the sync and async defaults, aiohttp
and the httpx wrappers), driven through one synchronous ``post``: they must all tell the client
the same things, above all whether a failed request can have reached the server."""

from __future__ import annotations

import asyncio
import base64
import socket
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import httpx
import pytest

import medpay_core as mp
from medpay_core.transport import Answer, Failed

HEADERS = {"Content-Type": "application/json;charset=UTF-8"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.seen.append((self.path, dict(self.headers), body, self.connection.getpeername()))
        self.server.behaviour(self, body)


def answer(status: int = 200, body: bytes = b'{"code":0}', *, close_after: bool = False,
           chunked: bool = False) -> Callable[[_Handler, bytes], None]:
    """Answer ``body``; ``close_after`` closes the connection after the answer without
    saying so (what a center's idle timeout does to a kept-alive connection)."""

    def run(h: _Handler, request: bytes) -> None:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            for i in range(0, len(body), 4096):
                part = body[i:i + 4096]
                h.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            h.wfile.write(b"0\r\n\r\n")
        else:
            h.send_header("Content-Length", str(len(body)))
            h.end_headers()
            h.wfile.write(body)
        h.wfile.flush()
        if close_after:
            h.close_connection = True

    return run


def hang(h: _Handler, request: bytes) -> None:
    h.server.release.wait(30)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the listen backlog: 20 clients connect at once below

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.seen: list = []
        self.connections = 0
        self.behaviour: Callable[[_Handler, bytes], None] = answer()
        self.release = threading.Event()
        self.closed = threading.Semaphore(0)  # released as the server closes each connection
        self.tls = tls
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def get_request(self) -> Any:
        sock, addr = super().get_request()
        self.connections += 1
        if self.tls is not None:
            sock = self.tls.wrap_socket(sock, server_side=True)
        return sock, addr

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        self.closed.release()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.server_address[1]}/org/local/api/hos/x"

    def stop(self) -> None:
        self.release.set()
        self.shutdown()
        self.server_close()


class Proxy(threading.Thread):
    """A forward proxy: plain requests by absolute URI, HTTPS by CONNECT; it keeps the
    Proxy-Authorization it was sent."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.auth: list = []
        self.requests: list = []
        self.start()

    @property
    def url(self) -> str:
        return f"http://medpay:s%3Acret@127.0.0.1:{self.sock.getsockname()[1]}"

    def run(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        f = client.makefile("rb")
        line = f.readline().decode()
        headers = {}
        while (h := f.readline()) not in (b"\r\n", b""):
            k, _, v = h.decode().partition(":")
            headers[k.strip().lower()] = v.strip()
        self.auth.append(headers.get("proxy-authorization"))
        method, target, _ = line.split(" ", 2)
        self.requests.append((method, target))
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)))
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            threading.Thread(target=_pipe, args=(upstream, client), daemon=True).start()
            _pipe(client, upstream, f)
            return
        # An absolute URI: forward the request once, relay the answer, close.
        from urllib.parse import urlsplit

        parts = urlsplit(target)
        body = f.read(int(headers.get("content-length", 0)))
        upstream = socket.create_connection((parts.hostname, parts.port))
        head = f"{method} {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Length: {len(body)}\r\n" \
               f"Content-Type: {headers.get('content-type', '')}\r\nConnection: close\r\n\r\n"
        upstream.sendall(head.encode() + body)
        while chunk := upstream.recv(65536):
            client.sendall(chunk)
        upstream.close()
        client.close()

    def stop(self) -> None:
        self.sock.close()


def _pipe(src: socket.socket, dst: socket.socket, reader: Any = None) -> None:
    # ``reader``: the buffered reader that read the CONNECT line, which may hold bytes of
    # the tunnel already.
    try:
        while chunk := (reader.read1(65536) if reader is not None else src.recv(65536)):
            dst.sendall(chunk)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# -- the four transports, driven alike --------------------------------------------------


class Driver:
    """One transport, posted to synchronously (an async one on its own event loop)."""

    def __init__(self, kind: str, **settings: Any) -> None:
        self.kind = kind
        self.loop = asyncio.new_event_loop() if kind.startswith("async") else None
        verify = settings.get("ssl_context") or True
        proxy = settings.get("proxy")
        if kind == "sync":
            self.transport: Any = mp.HttpTransport(**settings)
        elif kind == "async":
            self.transport = mp.AsyncioTransport(**settings)
        elif kind == "async-aiohttp":
            self.transport = mp.AiohttpTransport(**settings)
        elif kind == "sync-httpx":
            self.transport = mp.HttpxTransport(httpx.Client(verify=verify, proxy=proxy, trust_env=False,
                                                            timeout=settings.get("timeout", 30)))
        else:
            self.transport = mp.AsyncHttpxTransport(timeout=settings.get("timeout", 30),
                                                    ssl_context=settings.get("ssl_context"), proxy=proxy)

    def post(self, url: str, body: bytes = b'{"encData":"x"}', timeout: Optional[float] = None,
             max_bytes: int = 1 << 20) -> Any:
        if self.loop is None:
            return self.transport.post(url, body, HEADERS, timeout, max_bytes)
        return self.loop.run_until_complete(self.transport.post(url, body, HEADERS, timeout, max_bytes))

    def idle(self) -> None:
        """Let an async transport see what happened to its idle connections."""
        if self.loop is not None:
            self.loop.run_until_complete(asyncio.sleep(0.05))

    def close(self) -> None:
        if self.loop is None:
            self.transport.close()
            if self.kind == "sync-httpx":
                self.transport.client.close()
        else:
            self.loop.run_until_complete(self.transport.aclose())
            self.loop.close()


KINDS = ["sync", "async", "async-aiohttp", "sync-httpx", "async-httpx"]


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


@pytest.fixture(params=KINDS)
def transport(request):
    made = []

    def make(**settings: Any) -> Driver:
        d = Driver(request.param, **settings)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def test_a_post_returns_the_status_and_body_and_sends_the_headers(server, transport):
    server.behaviour = answer(201, b'{"code":0,"data":"ok"}')
    reply = transport().post(server.url, b'{"appId":"A"}')
    assert reply == Answer(201, b'{"code":0,"data":"ok"}')
    path, headers, body, _ = server.seen[0]
    assert path == "/org/local/api/hos/x" and body == b'{"appId":"A"}'
    assert headers["Content-Type"] == HEADERS["Content-Type"]


def test_connections_are_kept_alive_and_reused(server, transport):
    t = transport()
    for _ in range(5):
        assert t.post(server.url).status == 200
    assert server.connections == 1


def test_a_connection_the_server_closed_while_idle_is_not_reused(server, transport):
    # The center closes kept-alive connections when idle; the next request must go on a
    # fresh one and get its answer, not fail as a dropped request.
    server.behaviour = answer(close_after=True)
    t = transport()
    assert t.post(server.url).status == 200
    assert server.closed.acquire(timeout=10)
    t.idle()
    server.behaviour = answer()
    assert t.post(server.url) == Answer(200, b'{"code":0}')
    assert server.connections == 2


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_answer_past_max_bytes_is_reported_too_large_without_reading_it_all(server, transport, chunked):
    server.behaviour = answer(body=b"x" * 50_000, chunked=chunked)
    reply = transport().post(server.url, max_bytes=10_000)
    assert reply == Answer(200, b"", too_large=True)


def test_an_answer_of_exactly_max_bytes_is_read(server, transport):
    server.behaviour = answer(body=b"y" * 10_000, chunked=True)
    assert transport().post(server.url, max_bytes=10_000) == Answer(200, b"y" * 10_000)


def test_a_refused_connection_was_not_sent(transport):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    reply = transport().post(f"http://127.0.0.1:{port}/x")
    assert isinstance(reply, Failed) and reply.sent is False and reply.what == "ConnectError"


def test_an_answer_that_never_comes_is_a_read_timeout_that_may_have_been_sent(server, transport):
    server.behaviour = hang
    reply = transport(timeout=30).post(server.url, timeout=0.5)  # the call's timeout wins
    assert isinstance(reply, Failed) and reply.sent is True and reply.timed_out
    assert reply.cause is not None


def test_a_connection_dropped_before_the_answer_may_have_been_sent(server, transport):
    def drop(h: _Handler, request: bytes) -> None:
        h.close_connection = True
        h.connection.shutdown(socket.SHUT_RDWR)

    server.behaviour = drop
    reply = transport().post(server.url)
    assert isinstance(reply, Failed) and reply.sent is True and not reply.timed_out


# -- TLS with a private CA, and a proxy ---------------------------------------------------


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 (the private CA is the certificate itself)."""
    d = tmp_path_factory.mktemp("ca")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def tls_server(private_ca):
    cert, key = private_ca
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    s = Server(tls=ctx)
    yield s
    s.stop()


def test_a_certificate_of_a_private_ca_is_refused_by_default_and_not_sent(tls_server, transport):
    reply = transport().post(tls_server.url)
    assert isinstance(reply, Failed) and reply.sent is False
    assert tls_server.seen == []


def test_an_ssl_context_trusting_the_private_ca_connects(tls_server, transport, private_ca):
    ctx = ssl.create_default_context(cafile=str(private_ca[0]))
    assert transport(ssl_context=ctx).post(tls_server.url) == Answer(200, b'{"code":0}')


@pytest.fixture(scope="module")
def client_cert(tmp_path_factory):
    """The institution's client certificate for mutual TLS (self-signed: the server trusts it)."""
    d = tmp_path_factory.mktemp("client")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=his.example", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True)
    return d / "cert.pem", d / "key.pem"


@pytest.fixture
def mtls_server(private_ca, client_cert):
    cert, key = private_ca
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(str(client_cert[0]))
    s = Server(tls=ctx)
    yield s
    s.stop()


def test_mutual_tls_with_a_client_certificate_in_the_ssl_context(mtls_server, transport, private_ca, client_cert):
    ctx = ssl.create_default_context(cafile=str(private_ca[0]))
    ctx.load_cert_chain(str(client_cert[0]), str(client_cert[1]))
    assert transport(ssl_context=ctx).post(mtls_server.url) == Answer(200, b'{"code":0}')
    assert len(mtls_server.seen) == 1


def test_mutual_tls_without_the_client_certificate_gets_no_answer(mtls_server, transport, private_ca):
    reply = transport(ssl_context=ssl.create_default_context(cafile=str(private_ca[0]))).post(mtls_server.url)
    assert isinstance(reply, Failed)
    assert mtls_server.seen == []


@pytest.fixture
def proxy():
    p = Proxy()
    yield p
    p.stop()


def test_plain_http_goes_through_the_proxy_with_its_credentials(server, transport, proxy):
    reply = transport(proxy=proxy.url).post(server.url)
    assert reply == Answer(200, b'{"code":0}')
    assert proxy.requests == [("POST", server.url)]
    assert proxy.auth == ["Basic " + base64.b64encode(b"medpay:s:cret").decode()]


def test_https_goes_through_the_proxy_by_connect(tls_server, transport, proxy, private_ca):
    ctx = ssl.create_default_context(cafile=str(private_ca[0]))
    reply = transport(proxy=proxy.url, ssl_context=ctx).post(tls_server.url)
    assert reply == Answer(200, b'{"code":0}')
    assert proxy.requests[0][0] == "CONNECT" and proxy.requests[0][1].startswith("127.0.0.1:")
    assert proxy.auth[0] is not None


@pytest.mark.parametrize("url", ["https://proxy:3128", "socks5://proxy:1080", "proxy:3128"])
def test_a_proxy_that_is_not_an_http_url_is_refused(url):
    with pytest.raises(ValueError, match="proxy"):
        mp.HttpTransport(proxy=url)


# -- the clients with their transports ------------------------------------------------------


def test_the_clients_default_transports_are_the_fast_ones():
    from medpay_core.transport import DefaultAsyncTransport

    creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(),
                           mp.SM2PrivateKey.generate().public_key())
    with mp.MedpayClient("http://127.0.0.1:9", creds) as c:
        assert type(c._transport) is mp.HttpTransport
    assert type(mp.AsyncMedpayClient("http://127.0.0.1:9", creds)._transport) is DefaultAsyncTransport


@pytest.mark.parametrize("library,chosen", [("asyncio", "AsyncioTransport"), ("trio", "AsyncHttpxTransport")])
def test_the_async_default_picks_the_transport_of_the_running_library(server, library, chosen):
    from medpay_core.transport import DefaultAsyncTransport

    t = DefaultAsyncTransport(timeout=10)

    async def main() -> Any:
        try:
            return await t.post(server.url, b"{}", HEADERS, None, 1 << 20), type(t._chosen).__name__
        finally:
            await t.aclose()

    reply, picked = asyncio.run(main()) if library == "asyncio" else pytest.importorskip("trio").run(main)
    assert reply.status == 200 and picked == chosen


@pytest.mark.parametrize("kind", ["async", "async-aiohttp", "async-httpx"])
def test_concurrent_posts_each_get_their_own_answer(server, kind):
    # The asyncio transport writes the requests of one turn of the loop together: each
    # must still reach its own connection and come back with its own answer.
    def echo(h: _Handler, request: bytes) -> None:
        answer(body=request)(h, request)

    server.behaviour = echo
    d = Driver(kind)
    try:
        async def all_at_once() -> list:
            return await asyncio.gather(*(d.transport.post(server.url, b'{"n":%d}' % i, HEADERS, None, 1 << 20)
                                          for i in range(20)))

        replies = d.loop.run_until_complete(all_at_once())
        assert all(isinstance(r, Answer) for r in replies), [r for r in replies if not isinstance(r, Answer)]
        assert [r.body for r in replies] == [b'{"n":%d}' % i for i in range(20)]
        again = d.loop.run_until_complete(all_at_once())  # on the kept-alive connections
        assert [r.body for r in again] == [b'{"n":%d}' % i for i in range(20)]
        assert server.connections <= 20
    finally:
        d.close()


@pytest.mark.parametrize("url", ["http:///org/local/api/hos/x", "http://127.0.0.1:99999/x"], ids=["no-host", "port"])
def test_a_url_that_cannot_be_reached_was_not_sent(transport, url):
    reply = transport().post(url)
    assert isinstance(reply, Failed) and reply.sent is False


def test_a_transport_without_a_timeout_waits_and_still_answers(server):
    t = mp.HttpTransport(timeout=None)  # type: ignore[arg-type]
    try:
        assert t.post(server.url, b"{}", HEADERS, None, 1 << 20).status == 200
    finally:
        t.close()


@pytest.mark.parametrize("timeout", [0, -1, True, "10"])
def test_a_timeout_that_is_not_positive_seconds_is_refused(timeout):
    with pytest.raises(ValueError, match="positive seconds"):
        mp.HttpTransport(timeout=timeout)
    creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(),
                           mp.SM2PrivateKey.generate().public_key())
    with pytest.raises(ValueError, match="positive seconds"):
        mp.MedpayClient("http://127.0.0.1:9", creds, timeout=timeout)


def test_any_object_with_post_and_close_is_a_transport_for_the_client():
    # Transport is a protocol: no base class needed, and what it returns is what the flow reads.
    class Offline:
        def __init__(self) -> None:
            self.posts: list = []

        def post(self, url, body, headers, timeout, max_bytes):
            self.posts.append(url)
            return Failed("ConnectError", "offline", sent=False)

        def close(self) -> None:
            pass

    creds = mp.Credentials("APPID00000000000", "S" * 32, mp.SM2PrivateKey.generate(),
                           mp.SM2PrivateKey.generate().public_key())
    t = Offline()
    with mp.MedpayClient("http://127.0.0.1:9", creds, transport=t, retries=0) as client:
        with pytest.raises(mp.TransportError, match="Nothing was sent"):
            client.query_order({"payOrdId": "ORD1", "payToken": "T", "orgCodg": "H",
                                "idNo": "150204198912131512", "userName": "张三", "idType": "01"})
    assert len(t.posts) == 1 and t.posts[0].endswith("/query_order_info")
