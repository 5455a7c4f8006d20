"""`python -m api --workers N`: the listening socket the worker processes share.

Regression for the ~40 ms per keep-alive request seen with 2 workers only: uvicorn's
``Config.bind_socket`` left the socket's ``proto`` at 0, so asyncio never set ``TCP_NODELAY`` on the
accepted connections and Nagle held each response body until the client's delayed ACK. These tests
check the socket option itself, not a timing.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
import uvicorn

from api.__main__ import serve_workers, tcp_listener


async def _nodelay_of_accepted_connection(sock: socket.socket) -> int:
    """Serve ``sock`` with asyncio as a uvicorn worker does; TCP_NODELAY of the connection it accepts."""
    loop = asyncio.get_running_loop()
    seen: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=sock)
    try:
        host, port = sock.getsockname()[:2]
        _, writer = await asyncio.open_connection(host, port)
        try:
            return await asyncio.wait_for(seen, 30)
        finally:
            writer.close()
    finally:
        server.close()
        await server.wait_closed()


def test_worker_listener_is_tcp_and_its_connections_get_nodelay() -> None:
    sock = tcp_listener(uvicorn.Config("api.app:create_app", factory=True, host="127.0.0.1", port=0))
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()  # still handed to the worker processes
        assert asyncio.run(_nodelay_of_accepted_connection(sock)) != 0
    finally:
        sock.close()


def test_serve_workers_hands_the_tcp_listener_to_the_supervisor(monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn.supervisors

    handed: dict = {}

    class FakeSupervisor:
        def __init__(self, config: uvicorn.Config, sockets: list[socket.socket]) -> None:
            handed["config"], handed["sockets"] = config, sockets
            handed["protos"] = [s.proto for s in sockets]

        def run(self) -> None:
            handed["ran"] = True

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", FakeSupervisor)
    serve_workers(2, host="127.0.0.1", port=0, log_level="warning")
    assert handed["ran"] and handed["config"].workers == 2
    assert handed["protos"] == [socket.IPPROTO_TCP]


def test_default_workers_is_one_per_core_at_most_two(monkeypatch: pytest.MonkeyPatch) -> None:
    from api import __main__ as entry

    for cores, expected in ((1, 1), (2, 2), (8, 2)):
        monkeypatch.setattr(entry.os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert entry.default_workers() == expected


def test_python_m_api_embeds_with_one_thread_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    """The workers read their settings from the environment ``main`` prepares (spawned processes inherit it)."""
    import os

    from api import __main__ as entry
    from ingest.settings import get_settings

    seen: list = []

    def fake_check() -> str:
        seen.append((get_settings().embed_threads, os.environ.get("YIBAO_EMBED_THREADS")))
        return "error: stopped by the test"

    monkeypatch.setattr(entry, "check_service_in_child", fake_check)
    env = {k: v for k, v in os.environ.items() if k not in ("YIBAO_EMBED_THREADS", "YIBAO_WORKERS")}
    monkeypatch.setattr(os, "environ", env)
    try:
        assert entry.main(["--no-build", "--workers", "2", "--port", "1"]) == 1
        env["YIBAO_EMBED_THREADS"] = "3"
        assert entry.main(["--no-build", "--workers", "2", "--port", "1"]) == 1
    finally:
        get_settings.cache_clear()
    assert seen == [(1, "1"), (3, "3")]
