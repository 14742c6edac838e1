"""The net under the rules: a probe that failed is never left without a finding.

The rules name causes (a wrong port, a loopback bind, another region). When none of them covers
a failed probe of a target, whatever it maps to, this says what pnet saw: the outcome, what the
peer sent, and what pnet could and could not establish.
"""

from __future__ import annotations

from collections.abc import Sequence

from pnet.diagnose.context import Context, finding
from pnet.diagnose.finding import Finding
from pnet.diagnose.live import answered, skipped
from pnet.diagnose.live_connect import CAUSES, SYMPTOMS
from pnet.model import Service
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target

COVER = CAUSES | SYMPTOMS | frozenset({"auth-required", "handshake-error", "ipv6-only-name"})
_LABELS = {"http": "HTTP", "redis": "Redis", "postgres": "PostgreSQL"}
_DNS_DOWN = frozenset({Outcome.SERVFAIL, Outcome.NO_NAMESERVER, Outcome.TIMEOUT, Outcome.ERROR})


def failed(results: Sequence[ProbeResult]) -> list[ProbeResult]:
    """The results that ran and did not get an answer."""
    return [r for r in results if not skipped(r) and not answered(r)]


def uncovered(
    ctx: Context, t: Target, results: Sequence[ProbeResult], found: Sequence[Finding]
) -> list[Finding]:
    """Findings for the failed probes of `t` that no finding of `found` explains."""
    if any(f.kind in COVER for f in found):
        return []
    bad = failed(results)
    if not bad:
        return []
    svc = ctx.service(t.service)
    out: list[Finding] = []
    seen: set[str] = set()
    for r in bad:
        f = _for(ctx, t, svc, r, bad)
        if f is not None and f.kind not in seen:
            seen.add(f.kind)
            out.append(f)
    return out


def _for(
    ctx: Context, t: Target, svc: Service | None, r: ProbeResult, bad: Sequence[ProbeResult]
) -> Finding | None:
    name = svc.name if svc is not None else t.host
    service = svc.name if svc is not None else None
    saw = f"{r.kind}: {r.detail or f'{r.target}: {r.outcome}'}"
    known = _known(ctx, svc)
    label = _LABELS.get(r.kind, r.kind)
    if r.kind in ("dns", "discovery"):
        if r.outcome in _DNS_DOWN:
            return finding(
                "unknown-host",
                t.subject,
                f"{r.target} could not be resolved: the name server did not answer ({r.outcome})",
                [
                    "check the resolver the instance uses (/etc/resolv.conf) and retry; "
                    "private names are only answered inside the platform's network"
                ],
                service=service,
                evidence=[saw],
            )
        what = "its discovery name" if r.kind == "discovery" else "the name"
        return finding(
            "unknown-host",
            t.subject,
            f"{r.target} does not resolve from here",
            [f"check {what} in {name}'s Connect → Internal tab (or its private domain)"],
            service=service,
            evidence=[saw, known],
        )
    if r.outcome is Outcome.REFUSED:
        others = [x for x in bad if x is not r]
        partly = " (other addresses of the name accept)" if not others and len(bad) == 1 else ""
        fix, more = ctx.p.refused_fix(name, t.port)
        return finding(
            "refused",
            t.subject,
            f"{r.target} refused the connection{partly}",
            fix,
            service=service,
            evidence=[saw, *more, known],
        )
    if r.outcome is Outcome.AUTH_REQUIRED:
        return finding(
            "auth-required",
            t.subject,
            f"{name} asks for credentials the address does not carry",
            [f"give the client {name}'s user and password (PASSWORD in the URL: user:PASSWORD@)"],
            service=service,
            evidence=[saw],
        )
    if r.outcome is Outcome.TLS_ERROR:
        if t.is_tls:
            return finding(
                "tls-on-private",
                t.subject,
                f"{t.scheme}:// to {t.host}, which does not complete a TLS handshake",
                [f"use the plain scheme on the private network; the peer said: {r.detail}"],
                service=service,
                evidence=[saw],
            )
        return finding(
            "wrong-protocol",
            t.subject,
            f"{r.target} speaks TLS, and the address asks for plain text",
            [f"use the TLS scheme for {name} ({t.scheme or 'the client'}s://), or its plain port"],
            service=service,
            evidence=[saw],
        )
    if r.outcome is Outcome.PROTOCOL_ERROR:
        return finding(
            "wrong-protocol",
            t.subject,
            f"{name} did not answer the {label} handshake on port {t.port}",
            [
                f"check that {name} serves {label} on {t.port}, or point the address at the "
                "port that does"
            ],
            service=service,
            evidence=[saw, "pnet reports what the peer sent; it does not guess what it speaks"],
        )
    if r.outcome is Outcome.HTTP_STATUS:
        status = int(r.evidence.get("status") or 0)
        return finding(
            "http-error",
            t.subject,
            f"{name} answered {status}",
            [f"look at {name}'s logs around this request; the network path is fine"],
            service=service,
            evidence=[saw],
        )
    if r.outcome is Outcome.ERROR and r.kind in ("redis", "postgres"):
        said = str(r.evidence.get("server_error") or r.evidence.get("error") or r.detail)
        return finding(
            "handshake-error",
            t.subject,
            f"{name} took the {label} handshake and answered with an error: {said}",
            _handshake_fix(r, t, svc, name),
            service=service,
            evidence=[saw],
        )
    if r.kind == "http" and r.outcome is Outcome.TIMEOUT:
        return finding(
            "http-error",
            t.subject,
            f"{name} accepted the connection but sent no HTTP answer in time",
            [f"look at {name}: it accepts connections but does not answer (blocked, slow)"],
            service=service,
            evidence=[saw],
        )
    if r.kind in ("redis", "postgres") and r.outcome is Outcome.TIMEOUT:
        return finding(
            "unreachable",
            t.subject,
            f"{name} accepted the connection but sent no {label} answer in time",
            [f"look at {name}: it accepts connections but does not answer (blocked, overloaded)"],
            service=service,
            evidence=[saw],
        )
    return finding(
        "unreachable",
        t.subject,
        f"{r.target}: no answer ({r.outcome})",
        [
            f"check that {name} is up and not overloaded; a connection that gets no answer is "
            "dropped on the way (isolation, a firewall, an instance that hangs)"
        ],
        service=service,
        evidence=[saw, known],
    )


def _handshake_fix(r: ProbeResult, t: Target, svc: Service | None, name: str) -> list[str]:
    code = str(r.evidence.get("sqlstate") or "")
    if code == "3D000":
        db = t.path.lstrip("/") or "the database"
        fix = [f"create {db} on {name}, or name a database it has in the URL"]
        if svc is not None and svc.database:
            fix.append(f"({name}'s database is {svc.database})")
        return fix
    if code == "53300":
        return [f"{name} has too many connections: close idle ones or use a connection pool"]
    if r.kind == "redis":
        return [f"the Redis server refused PING: look at {name}'s configuration and logs"]
    return [f"look at {name}'s logs for this error; the network path is fine"]


def _known(ctx: Context, svc: Service | None) -> str:
    if svc is not None:
        return ""
    if ctx.partial:
        return (
            "pnet knows only this service here (no Blueprint, no API key): it cannot say which "
            "service the address is meant to be"
        )
    return f"the address is not a service of {ctx.workspace.name}"
