"""The listening socket: accepted connections must send small responses without delay."""

from __future__ import annotations

import asyncio
import socket

import pytest

from projectw.errors import StartupError
from projectw.server import bind_socket


async def test_accepted_connections_have_nagle_off() -> None:
    # With Nagle's algorithm on, a keep-alive response written in two parts (headers, body)
    # waits for the client's delayed ACK: about 40 ms per request.
    sock = bind_socket("127.0.0.1", 0)
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            conn = transport.get_extra_info("socket")
            accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
    try:
        _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            assert await asyncio.wait_for(accepted, 10) != 0
        finally:
            writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_a_taken_port_is_a_clear_error() -> None:
    taken = bind_socket("127.0.0.1", 0)
    taken.listen()
    try:
        with pytest.raises(StartupError, match="cannot listen on 127.0.0.1"):
            bind_socket("127.0.0.1", taken.getsockname()[1])
    finally:
        taken.close()
