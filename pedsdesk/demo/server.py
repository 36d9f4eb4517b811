"""One process that serves the web app with waitress and runs the huey consumer in
background threads: the embedded, single-machine way to run pedsdesk."""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Callable

from django.core.management.base import CommandError
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger("pedsdesk.serve")

_STOP_SIGNALS = [signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]


def follow_port(port: int) -> None:
    """Family links (texts, emails, calendar files) point at the port being served, unless
    PEDSDESK_BASE_URL says where the public address is."""
    from django.conf import settings

    if not os.environ.get("PEDSDESK_BASE_URL") and port:
        settings.PEDSDESK_BASE_URL = f"http://127.0.0.1:{port}"


def run_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    threads: int = 8,
    workers: int = 2,
    shutdown_timeout: float = 10.0,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve until SIGINT/SIGTERM/SIGHUP, then stop the web server and the consumer.

    Must run in the main thread (signal handlers can only be set there).
    """
    from huey.contrib.djhuey import HUEY
    from waitress import create_server

    from pedsdesk.wsgi import application

    if HUEY.immediate:
        raise CommandError("HUEY is in immediate mode (test settings); `serve` needs a real queue.")
    autodiscover_modules("tasks")  # registers every app's tasks, as run_huey does
    follow_port(port)
    try:
        server = create_server(application, host=host, port=port, threads=threads)
    except OSError as exc:
        raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    consumer = HUEY.create_consumer(workers=workers, worker_type="thread", periodic=True,
                                    shutdown_timeout=shutdown_timeout)
    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        if stopping:
            return
        stopping = True
        logger.info("received %s, shutting down", signal.Signals(signum).name)
        # Unwinds waitress's loop in the main thread, as Ctrl-C does without a handler.
        raise KeyboardInterrupt

    consumer.start()
    try:
        # consumer.start() installs huey's own handlers, which only set a flag its
        # run() loop polls; that loop is not running here, so take the signals back.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, stop)
        announce(f"Serving on http://{host}:{port}/ with {threads} web threads and {workers} queue workers")
        server.run()
    except KeyboardInterrupt:
        pass
    finally:
        stopping = True
        for sig in _STOP_SIGNALS:
            # A second Ctrl-C during the graceful stop interrupts the tasks still running.
            signal.signal(sig, signal.default_int_handler if sig == signal.SIGINT else signal.SIG_IGN)
        try:
            server.task_dispatcher.shutdown()
            server.close()
            consumer.stop(graceful=True)
            HUEY.notify_interrupted_tasks()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        announce("Stopped.")
