"""Median time of each probe kind against local real servers (not a test).

    .venv/bin/python -m tests.bench_probes [RUNS]

Starts dnsmasq, redis-server (plain and with a password), PostgreSQL (TLS off and on) and
the scripted HTTP(S) server on loopback, runs every probe RUNS times (default 50) one after
another, and prints the median, p90 and max wall time per kind, and the probe's own
elapsed_ms median.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from pnet.probes import (
    connect,
    discover,
    get,
    hello,
    ping,
    probe_listeners,
    resolve,
)
from pnet.probes.result import ProbeResult
from tests import servers

Probe = Callable[[], Awaitable[ProbeResult]]


async def _listeners() -> ProbeResult:
    return probe_listeners()


async def _measure(name: str, probe: Probe, runs: int) -> None:
    walls: list[float] = []
    own: list[float] = []
    outcomes: set[str] = set()
    for _ in range(runs):
        started = time.perf_counter()
        r = await probe()
        walls.append((time.perf_counter() - started) * 1000.0)
        own.append(r.elapsed_ms)
        outcomes.add(str(r.outcome))
    walls.sort()
    p90 = walls[max(0, int(len(walls) * 0.9) - 1)]
    print(
        f"{name:28} median {statistics.median(walls):7.2f} ms  p90 {p90:7.2f}  "
        f"max {walls[-1]:7.2f}  (probe's own median {statistics.median(own):7.2f})  "
        f"{'/'.join(sorted(outcomes))}"
    )


async def main(runs: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="pnet-bench-"))
    cert = servers.make_cert(folder)
    dnsmasq = servers.start_dnsmasq()
    redis = servers.start_redis()
    redis_auth = servers.start_redis(password="bench-secret")
    template = servers.init_postgres_template()
    pg = servers.start_postgres(template)
    pg_tls = servers.start_postgres(template, tls=cert)
    ns = dnsmasq.nameserver
    pw = servers.PG_PASSWORDS["scram"]
    try:
        async with servers.http_server() as web, servers.http_server(tls=cert) as tls_web:
            closed = servers.free_port()
            probes: list[tuple[str, Probe]] = [
                ("dns A+AAAA (dnsmasq)", lambda: resolve("dual.test", nameserver=ns)),
                ("dns nxdomain", lambda: resolve("nope.test", nameserver=ns)),
                ("discovery (3 instances)", lambda: discover("api-x7f2-discovery", nameserver=ns)),
                ("tcp ok", lambda: connect(servers.LOOPBACK, web)),
                ("tcp refused", lambda: connect(servers.LOOPBACK, closed)),
                ("http GET 200", lambda: get(f"http://127.0.0.1:{web}/")),
                ("http 3 redirects", lambda: get(f"http://127.0.0.1:{web}/redirect/3")),
                (
                    "https GET 200 (per address)",
                    lambda: get(f"https://api.test:{tls_web}/", address="127.0.0.1"),
                ),
                ("redis PING", lambda: ping(redis.host, redis.port)),
                (
                    "redis AUTH+PING",
                    lambda: ping(redis_auth.host, redis_auth.port, password="bench-secret"),
                ),
                ("postgres trust", lambda: hello(pg.host, pg.port, user="trusted")),
                ("postgres scram ask", lambda: hello(pg.host, pg.port, user="scram")),
                (
                    "postgres scram login",
                    lambda: hello(pg.host, pg.port, user="scram", password=pw),
                ),
                (
                    "postgres trust over TLS",
                    lambda: hello(pg_tls.host, pg_tls.port, user="trusted"),
                ),
                ("listeners (psutil+netlink)", _listeners),
            ]
            print(
                f"{runs} runs each, one at a time, {sys.platform}, Python {sys.version.split()[0]}"
            )
            for name, probe in probes:
                await _measure(name, probe, runs)
    finally:
        for server in (dnsmasq, redis, redis_auth, pg, pg_tls):
            server.stop()
        shutil.rmtree(template, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
