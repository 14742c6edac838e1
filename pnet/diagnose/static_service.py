"""Static rules about a service itself and about its build: what its platform forbids it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from pnet.diagnose.context import Context, finding
from pnet.diagnose.finding import Finding
from pnet.model import Kind, Service
from pnet.targets import Target, is_private_host
from pnet.urls import DATABASE_SCHEMES

# Build steps that open connections to a database or another service.
CONNECTING_BUILD_STEPS = re.compile(
    r"(prisma\s+(migrate|db\s+(push|seed|pull)))"
    r"|(manage\.py\s+(migrate|loaddata|createsuperuser))"
    r"|(\b(rails|rake|bin/rails)\s+db:\w+)"
    r"|(\bknex\s+(migrate|seed))"
    r"|(\balembic\s+(upgrade|downgrade|stamp))"
    r"|(\bflask\s+db\s+(upgrade|migrate))"
    r"|(\bsequelize(-cli)?\s+db:\w+)"
    r"|(\btypeorm\s+migration:run)"
    r"|(\bdrizzle-kit\s+(migrate|push))"
    r"|(\bphp\s+artisan\s+(migrate|db:seed))"
    r"|(\bmix\s+ecto\.(migrate|setup|create))"
    r"|(\bmedusa\s+(db:migrate|migrations\s+run))"
    r"|(\b(goose|dbmate|flyway|liquibase|atlas|sqlx)\b.*\b(up|migrate|update|apply)\b)"
    r"|(\bmigrate\s+.*\bup\b)"
    r"|(\b(npm|yarn|pnpm|bun)\s+(run\s+)?(db:)?(migrate|seed)\S*)"
    r"|(\b(psql|pg_dump|pg_restore|redis-cli|valkey-cli|mysql)\s)",
    re.IGNORECASE,
)
MAX_COMMAND = 4096


def service_findings(ctx: Context, svc: Service) -> list[Finding]:
    """What is wrong with a service itself: its ports, its allow list (the platform's rules)."""
    subject = f"service:{svc.name}"
    return [
        finding(kind, subject, message, fix, service=svc.name, evidence=evidence)
        for kind, message, fix, evidence in ctx.p.service_findings(svc)
    ]


def build_phase(ctx: Context, src: Service, targets: Sequence[Target]) -> list[Finding]:
    """A build command that connects to a private address, where builds cannot reach it."""
    if ctx.p.builds_reach_private_network or not src.build_command:
        return []
    command = src.build_command[:MAX_COMMAND]
    m = CONNECTING_BUILD_STEPS.search(command)
    if m is None:
        return []
    private = [
        t
        for t in targets
        if (t.source is None or t.source == src.name)
        and is_private_host(ctx.workspace, t.host)
        and t.how != "public-url"
    ]
    if not private:
        return []
    chosen = next((t for t in private if t.key == "DATABASE_URL"), None)
    chosen = chosen or next(
        (t for t in private if t.scheme in DATABASE_SCHEMES or _is_db(ctx, t)), None
    )
    if chosen is None:
        return []
    step = _step_of(command, m.start())
    rest = " && ".join(
        s for s in (p.strip() for p in re.split(r"&&|;", command)) if s and s != step
    )
    start = src.start_command or "npm start"
    fix = [f"pre-deploy command: {step}", f"or start command: {step} && {start}"]
    if rest:
        fix.append(f"build command: {rest}")
    return [
        finding(
            "build-phase",
            chosen.subject,
            f"the build command runs `{step}`, which connects to {chosen.host}: private "
            "networking is not available during the build",
            fix,
            service=chosen.service,
            evidence=[
                f"{src.name}'s build command: {command}",
                f"{chosen.key or chosen.subject} points at the private host {chosen.host}",
                f"{ctx.p.title}: build scripts cannot reach other services; run migrations in "
                "the pre-deploy or start command",
                ctx.p.docs.scope,
            ],
        )
    ]


def _is_db(ctx: Context, t: Target) -> bool:
    svc = ctx.service(t.service)
    return svc is not None and svc.kind is Kind.POSTGRES


def _step_of(command: str, pos: int) -> str:
    start = 0
    for m in re.finditer(r"&&|;|\|\|", command):
        if m.end() <= pos:
            start = m.end()
        else:
            return command[start : m.start()].strip()
    return command[start:].strip()
