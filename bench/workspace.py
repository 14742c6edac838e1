"""`python -m bench.workspace N [--silent K] [--seed S]`: a Render workspace fixture of N services.

Every type in the proportions of a real workspace (web and private services with one to three
instances, workers and cron jobs that only send, static sites, Postgres, Key Value), in two
regions, each sending service reading a few variables that point at services of its region.
A few percent carry planted faults the lab serves (an instance down, a 5xx, an app bound to
loopback, a service listening on another port than it says, a password the database refuses),
and `silent` web services accept connections and never answer HTTP. The same arguments give
the same file.
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field

KINDS = (
    ("web", 40),
    ("pserv", 18),
    ("worker", 8),
    ("cron", 4),
    ("static", 3),
    ("postgres", 15),
    ("keyvalue", 12),
)
REGIONS = (("oregon", 80), ("frankfurt", 20))
HTTP_PORTS = (3000, 8000, 8080, 10000)
FAULTS = ("down", "http_status", "bind", "listen", "auth")
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@dataclass
class Spec:
    name: str
    kind: str
    region: str
    host: str = ""
    ports: tuple[int, ...] = ()
    instances: int = 1
    health_path: str | None = None
    password: str | None = None
    lab: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


def _suffix(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(n))


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    names, weights = zip(*table, strict=True)
    return str(rng.choices(names, weights=weights)[0])


def _specs(count: int, silent: int, seed: int) -> list[Spec]:
    rng = random.Random(seed)
    specs: list[Spec] = []
    silent_left = silent
    for i in range(count):
        kind = "web" if silent_left > 0 and i % 3 == 0 else _weighted(rng, KINDS)
        region = _weighted(rng, REGIONS)
        name = f"{kind}-{i:04d}"
        spec = Spec(name, kind, region)
        if kind in ("web", "pserv"):
            spec.host = f"{name}-{_suffix(rng, 4)}"
            spec.ports = (rng.choice(HTTP_PORTS),)
            spec.instances = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
            spec.health_path = "/healthz" if rng.random() < 0.8 else "/"
            if kind == "web" and silent_left > 0 and i % 3 == 0:
                spec.lab["protocol"] = "silent"
                silent_left -= 1
        elif kind == "postgres":
            spec.host = f"dpg-{_suffix(rng, 20)}-a"
            spec.ports = (5432,)
            spec.password = _suffix(rng, 16)
        elif kind == "keyvalue":
            spec.host = f"red-{_suffix(rng, 20)}"
            spec.ports = (6379,)
        specs.append(spec)
    _plant(specs, rng)
    _wire(specs, rng)
    return specs


def _plant(specs: list[Spec], rng: random.Random) -> None:
    """About 4% of the receiving services get one fault each."""
    for spec in specs:
        if not spec.ports or spec.lab or rng.random() >= 0.04:
            continue
        fault = rng.choice(FAULTS)
        if fault == "down" and spec.instances > 1:
            spec.lab["down"] = "1"
        elif fault == "http_status" and spec.kind in ("web", "pserv"):
            spec.lab["http_status"] = "503"
        elif fault == "bind" and spec.kind in ("web", "pserv"):
            spec.lab["bind"] = "loopback"
        elif fault == "listen" and spec.kind in ("web", "pserv"):
            spec.lab["listen"] = f"[{spec.ports[0] + 1}]"
        elif fault == "auth" and spec.kind == "postgres":
            spec.lab["auth"] = _suffix(rng, 12)


def _wire(specs: list[Spec], rng: random.Random) -> None:
    """Each sending service reads one to three variables pointing at services of its region."""
    by_region: dict[str, dict[str, list[Spec]]] = {}
    for spec in specs:
        if spec.ports:
            by_region.setdefault(spec.region, {}).setdefault(spec.kind, []).append(spec)
    for spec in specs:
        if spec.kind not in ("web", "pserv", "worker", "cron"):
            continue
        pool = by_region.get(spec.region, {})
        if spec.ports:
            spec.env["PORT"] = str(spec.ports[0])
        for _ in range(rng.choice((1, 1, 2, 3))):
            kind = rng.choice(("postgres", "keyvalue", "web", "pserv"))
            candidates = [s for s in pool.get(kind, ()) if s is not spec]
            if not candidates:
                continue
            other = rng.choice(candidates)
            stem = other.name.replace("-", "_").upper()
            port = other.ports[0]
            if kind == "postgres":
                url = f"postgresql://app:{other.password}@{other.host}:{port}/app"
                spec.env[f"{stem}_DATABASE_URL"] = url
            elif kind == "keyvalue":
                spec.env[f"{stem}_REDIS_URL"] = f"redis://{other.host}:{port}"
            else:
                spec.env[f"{stem}_URL"] = f"http://{other.host}:{port}"


def _lines(spec: Spec) -> Iterator[str]:
    yield f"  - name: {spec.name}"
    yield f"    type: {spec.kind}"
    if spec.kind != "static":
        yield f"    region: {spec.region}"
    if spec.kind == "static":
        yield f"    public_url: https://{spec.name}-{spec.name[-4:]}.onrender.com"
    if spec.host:
        yield f"    host: {spec.host}"
    if spec.ports and spec.kind in ("web", "pserv"):
        yield f"    ports: [{', '.join(str(p) for p in spec.ports)}]"
    if spec.kind == "web":
        yield f"    public_url: https://{spec.host}.onrender.com"
    if spec.instances > 1:
        yield f"    instances: {spec.instances}"
    if spec.health_path:
        yield f"    health_path: {spec.health_path}"
    if spec.kind == "postgres":
        yield "    database: app"
        yield "    user: app"
        yield f"    password: {spec.password}"
        yield "    ip_allow_list: []"
    if spec.kind == "keyvalue":
        yield "    ip_allow_list: []"
    if spec.env:
        yield "    env:"
        for key, value in spec.env.items():
            yield f"      {key}: {value}"
    if spec.lab:
        inner = ", ".join(f"{k}: {v}" for k, v in spec.lab.items())
        yield f"    lab: {{{inner}}}"


def generate(count: int, *, silent: int = 0, seed: int = 1) -> str:
    """The fixture text of a workspace of `count` services, `silent` of them never answering."""
    if count < 1 or not 0 <= silent <= count // 3:
        raise ValueError("count >= 1 and silent <= count // 3")
    out = [
        f"# {count} services generated by bench.workspace (seed {seed}, {silent} silent)",
        "platform: render",
        f"workspace: bench-{count}",
        "services:",
    ]
    for spec in _specs(count, silent, seed):
        out.extend(_lines(spec))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workspace", description=__doc__)
    parser.add_argument("count", type=int, metavar="N")
    parser.add_argument("--silent", type=int, default=0, metavar="K")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        text = generate(args.count, silent=args.silent, seed=args.seed)
    except ValueError as exc:
        print(f"bench.workspace: error: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
