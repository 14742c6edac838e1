"""A name server that does not answer is one fact, not an unknown host per name.

When every lookup a run sent to one name server got no answer (nothing listens there, or no
reply in time) and there were several, the server is what is wrong: one `unknown-host` finding
on the subject `nameserver:HOST:PORT`, and the targets whose only failure was that lookup are
left not checked. A lookup the server answered, even NXDOMAIN, proves it is up, and then each
name is judged on its own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pnet.diagnose.context import finding
from pnet.diagnose.finding import Finding
from pnet.probes.result import Outcome, ProbeResult
from pnet.targets import Target

UNANSWERED = frozenset({Outcome.NO_NAMESERVER, Outcome.TIMEOUT})
LOOKUPS = frozenset({"dns", "discovery"})
SUBJECT = "nameserver:"
WHY = "the name server did not answer"


def unanswered(result: ProbeResult) -> bool:
    """A lookup no name server answered."""
    return result.kind in LOOKUPS and result.outcome in UNANSWERED


def _server(result: ProbeResult) -> str:
    return str(result.evidence.get("nameserver") or "the system's resolver")


@dataclass(frozen=True)
class Silent:
    """A name server that answered none of the run's lookups."""

    server: str
    subjects: tuple[str, ...]
    results: tuple[ProbeResult, ...]

    def finding(self) -> Finding:
        names = list(dict.fromkeys(r.target for r in self.results))
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        first = self.results[0]
        return finding(
            "unknown-host",
            f"{SUBJECT}{self.server}",
            f"the name server {self.server} does not answer: none of {len(names)} names "
            "could be looked up, so nothing past DNS was checked",
            [
                f"check that a name server listens at {self.server} (pnet lab prints its own "
                "with `nameserver HOST:PORT`), or leave out --nameserver to use the system's "
                "resolver (/etc/resolv.conf)",
                "inside an instance, private names are only answered by the platform's resolver",
            ],
            evidence=[f"DNS: {first.detail or first.outcome}", f"names tried: {shown}"],
        )


def silent_servers(
    targets: Sequence[Target], results: Mapping[str, Sequence[ProbeResult]]
) -> list[Silent]:
    """The name servers that answered none of several lookups (see the module doc)."""
    asked: dict[str, list[tuple[str, ProbeResult]]] = {}
    for t in targets:
        for r in results.get(t.subject, ()):
            if r.kind in LOOKUPS and not r.evidence.get("skipped"):
                asked.setdefault(_server(r), []).append((t.subject, r))
    out = []
    for server, lookups in asked.items():
        names = {r.target for _, r in lookups}
        if len(names) > 1 and all(unanswered(r) for _, r in lookups):
            subjects = tuple(dict.fromkeys(s for s, _ in lookups))
            out.append(Silent(server, subjects, tuple(r for _, r in lookups)))
    return out


def without(
    results: Mapping[str, Sequence[ProbeResult]], silent: Sequence[Silent]
) -> dict[str, list[ProbeResult]]:
    """The results left for each target once the silent servers' lookups are set apart."""
    dropped = {id(r) for s in silent for r in s.results}
    return {k: [r for r in rs if id(r) not in dropped] for k, rs in results.items()}
