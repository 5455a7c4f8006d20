"""`python -m api [--host H] [--port P] [--workers N]`: build the index if missing, then serve.

1. If the index folder (``YIBAO_INDEX_DIR``, default ``var/index``) has no ``manifest.json``, runs
   ``python -m ingest -q`` to build it (exit code passed on if that fails).
2. Loads the QA service once to check the index and the model; on failure prints one line
   (``error: …`` saying what to do) and exits with code 1 — no traceback.
3. Serves the API and the page with uvicorn. With ``--workers 1`` the checked service is served
   directly; with ``--workers N`` the check runs in a short-lived child process (so the supervisor does
   not keep a copy of the model) and uvicorn starts N processes, each loading its own copy (about
   N × 380 MB). The default (``YIBAO_WORKERS``, 0 = auto) is one worker per available core, at most 2:
   on the 2-core machine 2 workers served 8 concurrent clients ~1.3× faster than 1 worker, with the
   same single-client latency (README, Performance). Each worker still runs its CPU-bound calls in a
   bounded thread pool (``YIBAO_ASK_CONCURRENCY``).
4. Unless ``YIBAO_EMBED_THREADS`` is set, embeds each question with one ONNX Runtime thread: a
   question is too short to gain from a second thread, and concurrency comes from the requests.

With several workers the listening socket is bound here (``tcp_listener``) rather than by
``uvicorn.run``: uvicorn's ``Config.bind_socket`` creates it with ``proto`` 0, accepted connections
inherit that, and asyncio only sets ``TCP_NODELAY`` on sockets whose ``proto`` is ``IPPROTO_TCP``.
Without it Nagle holds the response body (written after the headers) until the client's delayed ACK,
so every keep-alive request after the first took ~40 ms longer than with one worker.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import socket
import subprocess
import sys

from ingest.settings import get_settings


def _local_url(host: str, port: int) -> str:
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "::", "127.0.0.1", "localhost") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/"


# Where ``python -m api`` differs from the library defaults (both can be overridden by the variable).
SERVING_ENV = {"YIBAO_EMBED_THREADS": "1"}
MAX_AUTO_WORKERS = 2


def default_workers() -> int:
    """``--workers`` when neither the option nor ``YIBAO_WORKERS`` says: one per core, at most 2."""
    return max(1, min(MAX_AUTO_WORKERS, len(os.sched_getaffinity(0))))


def check_service_in_child() -> str | None:
    """``api.app.check_service`` in a spawned process: the model's memory goes back with it."""
    from concurrent.futures import ProcessPoolExecutor

    from .app import check_service

    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(check_service).result()


def tcp_listener(config) -> socket.socket:
    """``config.bind_socket()`` (a ``uvicorn.Config``), with the socket's protocol recorded as TCP.

    Same file descriptor, same options; only the Python object's ``proto`` changes from 0 to
    ``IPPROTO_TCP``, which accepted sockets copy and asyncio checks before setting ``TCP_NODELAY``.
    The worker processes receive the socket pickled with its ``proto``.
    """
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto != socket.IPPROTO_TCP:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    return sock


def serve_workers(workers: int, **common) -> None:
    """What ``uvicorn.run("api.app:create_app", factory=True, workers=N)`` does, with ``tcp_listener``."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("api.app:create_app", factory=True, workers=workers, **common)
    sock = tcp_listener(config)
    try:
        Multiprocess(config, sockets=[sock]).run()
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def main(argv: list[str] | None = None) -> int:
    for name, value in SERVING_ENV.items():
        os.environ.setdefault(name, value)  # before the settings are read; inherited by the workers
    get_settings.cache_clear()
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="python -m api", description="Serve the yibao-qa API and chat page.")
    parser.add_argument("--host", default=settings.host, help="bind address (default: %(default)s, YIBAO_HOST)")
    parser.add_argument("--port", type=int, default=settings.port, help="port (default: %(default)s, YIBAO_PORT)")
    parser.add_argument("--workers", type=int, default=settings.workers or default_workers(),
                        help="uvicorn worker processes, each with its own copy of the model (default: %(default)s;"
                             " YIBAO_WORKERS, else one per core, at most 2)")
    parser.add_argument("--no-build", action="store_true", help="do not build a missing index, fail instead")
    parser.add_argument("--log-level", default="info", choices=["critical", "error", "warning", "info", "debug"])
    args = parser.parse_args(argv)
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("yibao").setLevel(args.log_level.upper())

    index_dir = settings.index_dir
    if not (index_dir / "manifest.json").is_file() and not args.no_build:
        print(f"no index in {index_dir}; building it with `python -m ingest -q` …", file=sys.stderr, flush=True)
        built = subprocess.run([sys.executable, "-m", "ingest", "-q"], check=False)
        if built.returncode != 0:
            print(f"error: building the index failed (exit code {built.returncode}); see the message above.",
                  file=sys.stderr)
            return built.returncode

    import uvicorn

    from .app import create_app, startup_message

    common = {"host": args.host, "port": args.port, "log_level": args.log_level, "server_header": False,
              "proxy_headers": False}
    serving = f"yibao-qa: serving on {_local_url(args.host, args.port)} with {args.workers} worker(s)  " \
              "(API docs: /docs, Ctrl+C to stop)"
    if args.workers == 1:
        try:
            from qa.service import QAService

            service = QAService.load(settings)
        except Exception as exc:  # IndexNotReady, a missing model, …: one line, no traceback
            print(startup_message(exc), file=sys.stderr)
            return 1
        print(serving, flush=True)
        uvicorn.run(create_app(settings, service=service), **common)
    else:
        problem = check_service_in_child()
        if problem is not None:
            print(problem, file=sys.stderr)
            return 1
        print(serving, flush=True)
        serve_workers(args.workers, **common)
    return 0


if __name__ == "__main__":
    sys.exit(main())
