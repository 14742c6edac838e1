"""Discovery: every instance address a service's discovery name resolves to.

The caller names what to ask: on Render `<internal host>-discovery`, on Railway the internal
host itself (its A/AAAA records list every replica). Outcomes are those of the DNS probe.
"""

from __future__ import annotations

from dataclasses import replace

from .dnswire import RESOLV_CONF, Session
from .result import Outcome, ProbeResult

KIND = "discovery"


async def discover(
    name: str,
    *,
    nameserver: tuple[str, int] | None = None,
    timeout: float = 2.0,  # noqa: ASYNC109
    resolv_conf: str = RESOLV_CONF,
    session: Session | None = None,
) -> ProbeResult:
    """Resolve a discovery name (kind "discovery"; evidence name, addresses, count, a, aaaa)."""
    if session is not None and nameserver is not None:
        from . import dnswire

        answer = await dnswire.resolve(
            name, nameserver=nameserver, session=session, timeout=timeout, kind=KIND
        )
    else:
        from .dns import resolve

        answer = await resolve(
            name,
            nameserver=nameserver,
            timeout=timeout,
            resolv_conf=resolv_conf,
            kind=KIND,
            session=session,
        )
    addresses = [*answer.evidence.get("a", []), *answer.evidence.get("aaaa", [])]
    evidence = {
        "name": name,
        "addresses": addresses,
        "count": len(addresses),
        **answer.evidence,
    }
    detail = answer.detail
    if answer.outcome is Outcome.OK:
        noun = "instance" if len(addresses) == 1 else "instances"
        detail = f"{name}: {len(addresses)} {noun} ({', '.join(addresses)})"
    return replace(answer, evidence=evidence, detail=detail)
