"""The HTTP/1.1 framing of medpay's own transports: the request head and the answer
parser, fed whole, byte by byte and at random split points."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medpay_core.http1 import ProtocolError, ResponseParser, connect_head, request_head


def parse(raw: bytes, max_bytes: int = 1 << 20, pieces: list[int] | None = None, eof: bool = False) -> ResponseParser:
    p = ResponseParser(max_bytes)
    cuts = sorted(pieces or [])
    at = 0
    for cut in [*cuts, len(raw)]:
        p.feed(raw[at:cut])
        at = cut
    if eof:
        p.eof()
    return p


CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: t\r\n\r\n")


@pytest.mark.parametrize("raw,body", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\n{\"a\":1}", b'{"a":1}'),
    (CHUNKED, b'{"a":1}'),
    (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", b"{}"),
    (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
], ids=["content-length", "chunked", "interim-100", "204"])
def test_an_answer_is_read_whole_and_byte_by_byte_alike(raw, body):
    whole = parse(raw)
    assert whole.done and whole.body() == body and whole.keep_alive and not whole.leftover
    split = parse(raw, pieces=list(range(1, len(raw))))
    assert split.done and split.body() == body and split.status == whole.status


@given(st.lists(st.integers(min_value=0, max_value=len(CHUNKED)), max_size=8))
def test_any_split_of_a_chunked_answer_reads_the_same(cuts):
    p = parse(CHUNKED, pieces=cuts)
    assert p.done and p.body() == b'{"a":1}' and p.status == 200


def test_an_answer_framed_by_the_connection_ends_with_it_and_is_not_kept_alive():
    p = parse(b"HTTP/1.1 200 OK\r\n\r\n{\"x\":", eof=False)
    assert not p.done
    p.feed(b"1}")
    p.eof()
    assert p.done and p.body() == b'{"x":1}' and not p.keep_alive


@pytest.mark.parametrize("head,keep", [
    (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", False),
    (b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", True),
])
def test_keep_alive_follows_the_answers_connection_header_and_version(head, keep):
    assert parse(head).keep_alive is keep


def test_a_connection_ended_inside_an_answer_is_a_protocol_error():
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
    with pytest.raises(ProtocolError, match="closed before"):
        p.eof()


@pytest.mark.parametrize("raw,max_bytes", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\n", 10),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n", 10),
    (b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 11, 10),
], ids=["content-length", "chunked", "until-close"])
def test_an_answer_past_max_bytes_is_too_large_and_its_connection_not_reused(raw, max_bytes):
    p = parse(raw, max_bytes)
    assert p.done and p.too_large and p.body() == b"" and not p.keep_alive


@pytest.mark.parametrize("raw", [
    b"SSH-2.0-OpenSSH\r\n\r\n",
    b"HTTP/1.1 2000 OK\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
    b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
    b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n",
], ids=["not-http", "status", "two-lengths", "negative-length", "gzip", "no-colon", "folded", "chunk-size",
        "chunk-end", "too-many-headers"])
def test_a_malformed_answer_is_a_protocol_error(raw):
    with pytest.raises(ProtocolError):
        parse(raw)


def test_a_head_that_never_ends_is_refused_at_64_kib():
    p = ResponseParser(1 << 20)
    with pytest.raises(ProtocolError, match="64 KiB"):
        for _ in range(100):
            p.feed(b"X-Long: " + b"a" * 1000 + b"\r\n")


def test_bytes_after_the_answer_are_noticed():
    p = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}HTTP/1.1 200 OK\r\n")
    assert p.done and p.leftover


@pytest.mark.parametrize("bad", [{"X-Trace": "a\r\nInjected: 1"}, {"X\nY": "v"}, {"X:Y": "v"}])
def test_a_header_that_would_split_the_request_is_refused(bad):
    with pytest.raises(ValueError):
        request_head("/x", "h", bad, 0)
    with pytest.raises(ValueError):
        connect_head("h:443", bad)


@pytest.mark.parametrize("module", ["medpay_core.http1", "medpay_core.transport", "medpay_core.client"])
def test_the_docstring_examples_of_the_http_modules_run(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
