"""A small TCP proxy on 127.0.0.1 that the tests put between a server and PostgreSQL, to take
the database away and give it back without touching the shared PostgreSQL cluster.

``cut()`` acts like PostgreSQL going down: every open connection is reset and new ones are
refused. ``hang()`` acts like a network partition: connections stay open but no byte moves,
and new ones are accepted and never answered. ``restore()`` brings the database back on the
same port.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._stopped = threading.Event()
        self.connections = 0

    # -- Control --------------------------------------------------------------------------

    def start(self) -> TcpProxy:
        self._listen()
        self._flowing.set()
        return self

    def cut(self) -> None:
        """PostgreSQL is down: reset every connection and refuse new ones."""
        self._close_listener()
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                _reset(sock)

    def hang(self) -> None:
        """A partition: nothing flows either way; new connections are accepted, then silent."""
        self._flowing.clear()

    def restore(self) -> None:
        if self._listener is None:
            self._listen()
        self._flowing.set()

    def stop(self) -> None:
        self._stopped.set()
        self.cut()

    def rewrite(self, database_url: str) -> str:
        """``database_url`` pointed at the proxy instead of PostgreSQL itself."""
        host_port = f"{self.target[0]}:{self.target[1]}"
        assert host_port in database_url, database_url
        return database_url.replace(host_port, f"127.0.0.1:{self.port}")

    # -- Plumbing -------------------------------------------------------------------------

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _close_listener(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed: cut() or stop()
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _reset(client)
                continue
            upstream.settimeout(None)
            with self._lock:
                self._pairs.append((client, upstream))
                self.connections += 1
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()

    def _pump(self, a: socket.socket, b: socket.socket) -> None:
        """Copy both ways until either side closes; hold bytes while the proxy hangs."""
        peers = {a: b, b: a}
        try:
            while not self._stopped.is_set():
                readable, _, _ = select.select([a, b], [], [], 0.2)
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    while not self._flowing.is_set():
                        if self._stopped.is_set() or sock.fileno() < 0:
                            return
                        self._flowing.wait(0.1)
                    peers[sock].sendall(data)
        except (OSError, ValueError):
            return
        finally:
            for sock in (a, b):
                with contextlib.suppress(OSError):
                    sock.close()


def _reset(sock: socket.socket) -> None:
    """Close with RST, as a crashed or stopped server's kernel would."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()
