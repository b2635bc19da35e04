"""A small HTTP/1.1 load generator, used by run.py when ``wrk`` is not installed.

It speaks the same scenarios as ``wrk/bench.lua`` and prints the same ``BENCH_JSON`` line.
Each of ``--threads`` processes runs ``--connections / --threads`` keep-alive connections on
an asyncio loop (uvloop when present), for ``--duration`` seconds, to a loopback address only.

Raw sockets rather than httpx: a client library costs more CPU per request than the server
under test, and on a 2-core machine the load generator shares the cores with the server.
Figures from it are lower than wrk's; run.py says which generator it used.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import multiprocessing
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

CLIENT_ID = "better-skills-cli"
GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def token_body(code: str) -> bytes:
    return json.dumps(
        {"grant_type": GRANT, "device_code": code, "client_id": CLIENT_ID},
        separators=(",", ":"),
    ).encode()


def build_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def scenario(
    mode: str, args: list[str], path: str, host: str, worker: int, workers: int
) -> tuple[Callable[[], bytes], int, bytes]:
    """(request maker, expected status, expected marker in the body) for one mode."""
    json_headers = {"Content-Type": "application/json"}
    if mode == "get-session":
        request = build_request("GET", path, host, {"Authorization": f"Bearer {args[0]}"}, b"")
        return (lambda: request), 200, b'"session"'
    if mode == "device-code":
        body = json.dumps({"client_id": CLIENT_ID, "scope": "openid profile email"}).encode()
        request = build_request("POST", path, host, json_headers, body)
        return (lambda: request), 200, b'"device_code"'
    if mode == "token-slow-down":
        request = build_request("POST", path, host, json_headers, token_body(args[0]))
        return (lambda: request), 400, b'"slow_down"'
    if mode == "token-pending":
        with open(args[0]) as fh:
            codes = [line.strip() for i, line in enumerate(fh) if i % workers == worker]
        requests = [build_request("POST", path, host, json_headers, token_body(c)) for c in codes]
        position = int(args[1]) - 1 if len(args) > 1 else -1  # where the last run stopped

        def next_request() -> bytes:
            nonlocal position
            position = (position + 1) % len(requests)
            return requests[position]

        return next_request, 400, b'"authorization_pending"'
    raise SystemExit(f"unknown mode {mode!r}")


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    parts = []
    while True:
        size = int((await reader.readline()).split(b";")[0], 16)
        if size == 0:
            await reader.readline()
            return status, b"".join(parts)
        parts.append(await reader.readexactly(size))
        await reader.readline()


async def connection(
    host: str,
    port: int,
    make: Callable[[], bytes],
    expect: tuple[int, bytes],
    deadline: float,
    stats: dict[str, Any],
) -> None:
    try:
        reader, writer = await asyncio.open_connection(host, port)
    except OSError:
        stats["socket_errors"] += 1
        return
    latencies: list[float] = stats["latencies"]
    try:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            writer.write(make())
            try:
                status, body = await asyncio.wait_for(read_response(reader), 10)
            except TimeoutError:
                stats["timeouts"] += 1
                break
            latencies.append(time.perf_counter() - started)
            if status == expect[0] and expect[1] in body:
                stats["ok"] += 1
            else:
                stats["unexpected"] += 1
                if not stats["first_unexpected"]:
                    stats["first_unexpected"] = f"{status} {body[:200].decode(errors='replace')}"
    except (OSError, ConnectionError, asyncio.IncompleteReadError):
        stats["socket_errors"] += 1
    finally:
        writer.close()


def worker_main(options: dict[str, Any], worker: int, queue: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    parts = urlsplit(options["url"])
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    make, status, marker = scenario(
        options["mode"], options["args"], parts.path, parts.netloc, worker, options["threads"]
    )
    stats: dict[str, Any] = {
        "latencies": [],
        "ok": 0,
        "unexpected": 0,
        "socket_errors": 0,
        "timeouts": 0,
        "first_unexpected": "",
    }
    share = options["connections"] // options["threads"] + (
        1 if worker < options["connections"] % options["threads"] else 0
    )

    async def run() -> float:
        started = time.monotonic()
        deadline = started + options["duration"]
        await asyncio.gather(
            *(connection(host, port, make, (status, marker), deadline, stats) for _ in range(share))
        )
        return time.monotonic() - started

    stats["elapsed"] = asyncio.run(run())
    queue.put(stats)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/path (loopback only)")
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--threads", type=int, default=2, help="processes")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "mode", choices=["get-session", "device-code", "token-slow-down", "token-pending"]
    )
    parser.add_argument("args", nargs="*")
    options = vars(parser.parse_args(argv))
    host = urlsplit(options["url"]).hostname or ""
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        parser.error("the load generator only targets loopback addresses")
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [
        context.Process(target=worker_main, args=(options, i, queue))
        for i in range(options["threads"])
    ]
    for process in processes:
        process.start()
    results = [queue.get() for _ in processes]
    for process in processes:
        process.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    elapsed = max(r["elapsed"] for r in results)
    micro = 1_000_000
    summary = {
        "requests": len(latencies),
        "duration_us": int(elapsed * micro),
        "p50_us": int(percentile(latencies, 0.50) * micro),
        "p90_us": int(percentile(latencies, 0.90) * micro),
        "p99_us": int(percentile(latencies, 0.99) * micro),
        "max_us": int((latencies[-1] if latencies else 0) * micro),
        "mean_us": (sum(latencies) / len(latencies) * micro) if latencies else 0.0,
        "ok": sum(r["ok"] for r in results),
        "unexpected": sum(r["unexpected"] for r in results),
        "socket_errors": sum(r["socket_errors"] for r in results),
        "timeouts": sum(r["timeouts"] for r in results),
        "max_thread_requests": max(len(r["latencies"]) for r in results),
        "first_unexpected": next(
            (r["first_unexpected"] for r in results if r["first_unexpected"]), ""
        ),
    }
    print("BENCH_JSON " + json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
