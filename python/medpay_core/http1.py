"""HTTP/1.1 framing for medpay's own transports: the request head, and one incremental
parser of the answer, fed bytes as they arrive by the sync transport (from ``recv``) and
the asyncio one (from ``data_received``) alike.

Only what a client of the center needs: ``POST`` with a ``Content-Length`` body, answers
framed by ``Content-Length``, ``chunked`` or the end of the connection, interim ``1xx``
answers skipped, keep-alive unless either side says ``close`` (or the answer is HTTP/1.0).
Everything is bounded: the head (64 KiB, 100 header lines) and the body (``max_bytes``;
past it the answer is marked too large and the connection is not reused).

>>> p = ResponseParser(max_bytes=1024)
>>> p.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
>>> p.done, p.status, p.body(), p.keep_alive
(True, 200, b'{}', True)
"""

from __future__ import annotations

from typing import List, Mapping, Optional

__all__ = ["ProtocolError", "request_head", "connect_head", "ResponseParser"]

MAX_HEAD = 64 * 1024
MAX_HEADERS = 100


class ProtocolError(Exception):
    """The answer is not well-formed HTTP/1.1 (or the connection ended inside it)."""


def request_head(target: str, host: str, headers: Mapping[str, str], length: int) -> bytes:
    """The head of a POST of ``length`` bytes to ``target`` (a path, or an absolute URI
    through a proxy). Header names and values with CR or LF are refused: they would split
    the request.

    >>> request_head("/x", "mpc.example", {"Accept": "application/json"}, 2)
    b'POST /x HTTP/1.1\\r\\nHost: mpc.example\\r\\nAccept: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n'
    """
    lines = [f"POST {target} HTTP/1.1", f"Host: {host}", *_header_lines(headers), f"Content-Length: {length}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _header_lines(headers: Mapping[str, str]) -> List[str]:
    lines = []
    for k, v in headers.items():
        if "\r" in k or "\n" in k or "\r" in v or "\n" in v or ":" in k:
            raise ValueError(f"header {k!r} holds a line break or a colon")
        lines.append(f"{k}: {v}")
    return lines


def connect_head(authority: str, headers: Mapping[str, str]) -> bytes:
    """A proxy's CONNECT request for a tunnel to ``authority`` (host:port).

    >>> connect_head("mpc.example:443", {})
    b'CONNECT mpc.example:443 HTTP/1.1\\r\\nHost: mpc.example:443\\r\\n\\r\\n'
    """
    lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}", *_header_lines(headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


# Parser states
_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILER, _UNTIL_CLOSE, _DONE = range(8)


class ResponseParser:
    """Feed it the bytes of one answer; ``done`` says when it is complete.

    ``status``, ``keep_alive`` (the connection may carry another request), ``too_large``
    (the body passed ``max_bytes``: reading stopped), :meth:`body`. ``connect=True`` reads
    a proxy's answer to CONNECT, which has no body.

    >>> p = ResponseParser(max_bytes=4)
    >>> p.feed(b"HTTP/1.1 200 OK\\r\\nContent-Length: 10\\r\\n\\r\\n")
    >>> p.done, p.too_large, p.keep_alive
    (True, True, False)
    """

    def __init__(self, max_bytes: int, *, connect: bool = False) -> None:
        self.max_bytes = max_bytes
        self.connect = connect
        self.status = 0
        self.keep_alive = True
        self.too_large = False
        self.done = False
        self._state = _HEAD
        self._buf = b""
        self._parts: List[bytes] = []
        self._size = 0  # body bytes so far
        self._left = 0  # bytes left of a Content-Length body or of a chunk

    def body(self) -> bytes:
        """The body (empty when too large)."""
        return b"" if self.too_large else b"".join(self._parts)

    @property
    def leftover(self) -> bool:
        """Bytes came after the answer (nothing was asked for them: do not reuse)."""
        return bool(self._buf)

    def eof(self) -> None:
        """The connection ended: completes an answer framed by it, else ProtocolError."""
        if self.done:
            return
        if self._state == _UNTIL_CLOSE:
            self._finish()
            return
        raise ProtocolError("the connection was closed before the answer was complete")

    def _finish(self) -> None:
        self.done = True
        self._state = _DONE

    def _add(self, data: bytes) -> bool:
        """Body bytes; False once past max_bytes (then the answer is done, too large)."""
        self._size += len(data)
        if self._size > self.max_bytes:
            self.too_large, self.keep_alive = True, False
            self._parts = []
            self._finish()
            return False
        self._parts.append(data)
        return True

    def feed(self, data: bytes) -> None:
        """Take the next bytes of the connection."""
        if self.done:
            self._buf += data
            return
        buf = self._buf + data if self._buf else data
        self._buf = b""
        while not self.done:
            state = self._state
            if state == _HEAD:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise ProtocolError("the answer's head is larger than 64 KiB")
                    self._buf = buf
                    return
                head, buf = buf[:end], buf[end + 4:]
                self._head(head)
            elif state == _LENGTH:
                if not buf:
                    return
                take, buf = buf[:self._left], buf[self._left:]
                self._left -= len(take)
                if not self._add(take):
                    break
                if self._left == 0:
                    self._finish()
            elif state == _UNTIL_CLOSE:
                if buf and not self._add(buf):
                    break
                buf = b""
                return
            elif state == _CHUNK_SIZE or state == _TRAILER:
                end = buf.find(b"\r\n")
                if end < 0:
                    if len(buf) > MAX_HEAD:
                        raise ProtocolError("a chunk header or trailer line is too long")
                    self._buf = buf
                    return
                line, buf = buf[:end], buf[end + 2:]
                if state == _TRAILER:
                    if not line:
                        self._finish()
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    raise ProtocolError(f"bad chunk size {line[:20]!r}") from None
                if size < 0:
                    raise ProtocolError("bad chunk size")
                if size == 0:
                    self._state = _TRAILER
                elif self._size + size > self.max_bytes:
                    self._add(b"\0" * 0)  # nothing kept
                    self.too_large, self.keep_alive = True, False
                    self._parts = []
                    self._finish()
                else:
                    self._left, self._state = size, _CHUNK_DATA
            elif state == _CHUNK_DATA:
                if not buf:
                    return
                take, buf = buf[:self._left], buf[self._left:]
                self._left -= len(take)
                self._add(take)
                if self._left == 0:
                    self._state = _CHUNK_END
            elif state == _CHUNK_END:
                if len(buf) < 2:
                    self._buf = buf
                    return
                if buf[:2] != b"\r\n":
                    raise ProtocolError("a chunk does not end with CRLF")
                buf = buf[2:]
                self._state = _CHUNK_SIZE
        self._buf = buf if self.keep_alive else b""

    def _head(self, head: bytes) -> None:
        lines = head.split(b"\r\n")
        if len(lines) > MAX_HEADERS + 1:
            raise ProtocolError("the answer has more than 100 header lines")
        status_line = lines[0]
        parts = status_line.split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.x answer: {status_line[:40]!r}")
        status = int(parts[1])
        if 100 <= status < 200:  # interim (100 Continue, 103 Early Hints): the answer follows
            return
        self.status = status
        length: Optional[int] = None
        chunked = False
        connection = b""
        for line in lines[1:]:
            name, sep, value = line.partition(b":")
            if not sep or not name or name != name.strip():
                raise ProtocolError(f"bad header line {line[:40]!r}")
            key = name.lower()
            value = value.strip()
            if key == b"content-length":
                if not value.isdigit() or (length is not None and int(value) != length):
                    raise ProtocolError("bad or conflicting Content-Length")
                length = int(value)
            elif key == b"transfer-encoding":
                codings = [c.strip() for c in value.lower().split(b",")]
                if codings[-1:] != [b"chunked"] or len(codings) > 1:
                    raise ProtocolError(f"unsupported Transfer-Encoding {value[:40]!r}")
                chunked = True
            elif key == b"connection":
                connection = value.lower()
        http10 = parts[0] == b"HTTP/1.0"
        self.keep_alive = b"close" not in connection and (not http10 or b"keep-alive" in connection)
        if self.connect or status in (204, 304):
            self._finish()
        elif chunked:
            self._state = _CHUNK_SIZE
        elif length is not None:
            if length > self.max_bytes:
                self.too_large, self.keep_alive = True, False
                self._finish()
            elif length == 0:
                self._finish()
            else:
                self._left, self._state = length, _LENGTH
        else:
            self.keep_alive = False
            self._state = _UNTIL_CLOSE
