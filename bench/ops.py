"""The questions a sweep asked, read back from the doctor's JSON, for its peers to ask again.

`questions(report, workspace)`: each DNS name, connection (address, port), HTTP GET (address,
Host, path), Redis PING and PostgreSQL startup the report shows a probe asking, once each, with
the credentials the workspace gives the service. `shell_lines(...)`: the same questions as one
shell command per service, with `dig`, `nc` (or bash's /dev/tcp), `curl`, `redis-cli` and
`psql`, for `xargs -P`; every command is bounded by a timeout and asks the lab's nameserver.
"""

from __future__ import annotations

import shlex
import shutil
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from pnet.model import Workspace


def _http_op(probe: dict[str, Any]) -> dict[str, Any] | None:
    ev = probe["evidence"]
    address = ev.get("address")
    url = ev.get("url") or probe["target"]
    if not address or ev.get("skipped"):
        return None
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    port = parts.port or 80
    host = parts.hostname if parts.port in (None, 80) else f"{parts.hostname}:{port}"
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return {"op": "http", "address": address, "port": port, "host": host, "path": path}


def questions(report: dict[str, Any], workspace: Workspace) -> list[dict[str, Any]]:
    """Every question the report shows, once, in the order they first appear."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(key: tuple[Any, ...], op: dict[str, Any]) -> None:
        seen.setdefault(key, op)

    for check in report["checks"]:
        svc = workspace.service(check["service"]) if check.get("service") else None
        for probe in check["probes"]:
            ev = probe["evidence"]
            kind = probe["kind"]
            if ev.get("skipped"):
                continue
            if kind in ("dns", "discovery"):
                name = ev.get("name") or probe["target"]
                add(("dns", name), {"op": "dns", "name": name, "service": check.get("service")})
            elif kind == "tcp" and ev.get("address"):
                add(
                    ("tcp", ev["address"], ev["port"]),
                    {"op": "tcp", "address": ev["address"], "port": ev["port"]},
                )
            elif kind == "http":
                op = _http_op(probe)
                if op is not None:
                    add(("http", op["address"], op["port"], op["host"], op["path"]), op)
            elif kind == "redis" and ev.get("address"):
                password = svc.password if svc is not None else None
                add(
                    ("redis", ev["address"], ev["port"]),
                    {
                        "op": "redis",
                        "address": ev["address"],
                        "port": ev["port"],
                        "password": password,
                    },
                )
            elif kind == "postgres" and ev.get("address"):
                op = {
                    "op": "postgres",
                    "address": ev["address"],
                    "port": ev["port"],
                    "user": ev.get("user") or "postgres",
                    "database": ev.get("database") or ev.get("user") or "postgres",
                    "password": svc.password if svc is not None else None,
                }
                add(("postgres", op["address"], op["port"], op["user"], op["database"]), op)
    return list(seen.values())


def _tcp_command(address: str, port: int, timeout: float) -> str:
    if shutil.which("nc"):
        return f"nc -z -w {max(1, round(timeout))} {address} {port}"
    inner = f"exec 3<>/dev/tcp/{address}/{port}"
    return f"timeout {timeout:g} bash -c {shlex.quote(inner)}"


def command(op: dict[str, Any], nameserver: tuple[str, int], timeout: float) -> str:
    """One question as a shell command that asks only the lab."""
    host, port = nameserver
    t = f"{timeout:g}"
    kind = op["op"]
    if kind == "dns":
        name = shlex.quote(op["name"])
        base = f"dig +short +tries=1 +time={max(1, round(timeout))} @{host} -p {port}"
        return f"{base} {name} A; {base} {name} AAAA"
    if kind == "tcp":
        return _tcp_command(op["address"], op["port"], timeout)
    if kind == "http":
        url = shlex.quote(f"http://{op['address']}:{op['port']}{op['path']}")
        header = shlex.quote(f"Host: {op['host']}")
        return f"curl -s -o /dev/null -m {t} --noproxy '*' -H {header} {url}"
    if kind == "redis" and shutil.which("redis-cli"):
        auth = f"-a {shlex.quote(op['password'])} --no-auth-warning " if op.get("password") else ""
        return f"timeout {t} redis-cli -h {op['address']} -p {op['port']} {auth}PING"
    if kind == "postgres" and shutil.which("psql"):
        env = f"PGPASSWORD={shlex.quote(op.get('password') or '')} PGCONNECT_TIMEOUT={t}"
        who = f"-U {shlex.quote(op['user'])} -d {shlex.quote(op['database'])}"
        return (
            f"{env} timeout {t} psql -X -q -w -h {op['address']} -p {op['port']} {who} "
            "-c 'SELECT 1'"
        )
    return _tcp_command(op["address"], op["port"], timeout)


def shell_lines(
    ops: Iterable[dict[str, Any]], nameserver: tuple[str, int], timeout: float
) -> list[str]:
    """The questions as one shell line per service (DNS first), for `xargs -P`."""
    groups: dict[str, list[str]] = {}
    for op in ops:
        dns = op["op"] == "dns"
        group = (op.get("service") or op["name"]) if dns else op.get("address", "")
        groups.setdefault(group, []).append(command(op, nameserver, timeout))
    return ["{ " + "; ".join(cmds) + "; } >/dev/null 2>&1; true" for cmds in groups.values()]
