"""A stand-in payment center for the round-trip benchmarks, run as its own process so
that the client's CPU time is the client's alone: an asyncio HTTP/1.1 keep-alive server on
127.0.0.1 that answers every POST with one pre-packed, signed answer (the client unpacks,
verifies and validates it as it would the center's).

    python bench/center.py ANSWER_FILE     # prints the port, serves until killed
"""

from __future__ import annotations

import asyncio
import re
import sys

_LENGTH = re.compile(rb"(?im)^content-length:\s*(\d+)")


class _Answering(asyncio.Protocol):
    def __init__(self, response: bytes) -> None:
        self.response = response
        self.buf = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            m = _LENGTH.search(self.buf, 0, end)
            total = end + 4 + (int(m.group(1)) if m else 0)
            if len(self.buf) < total:
                return
            self.buf = self.buf[total:]
            self.transport.write(self.response)  # type: ignore[attr-defined]


async def main(answer_file: str) -> None:
    body = open(answer_file, "rb").read()
    response = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)) + body
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: _Answering(response), "127.0.0.1", 0, backlog=512)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
