"""`pnet-doctor --explain KIND`: what a finding kind means, how pnet detects it, how to fix it."""

from __future__ import annotations

from dataclasses import dataclass

from pnet.diagnose import kinds as K
from pnet.platforms.railway import DOCS as RAILWAY
from pnet.platforms.render import DOCS as RENDER


@dataclass(frozen=True)
class Explanation:
    kind: str
    meaning: str
    detection: str
    fix: str
    docs: tuple[str, ...]

    def text(self) -> str:
        info = K.KINDS[self.kind]
        lines = [
            f"{self.kind} ({info.severity.value})",
            "",
            "What it means",
            *_wrap(self.meaning),
            "",
            "How pnet detects it",
            *_wrap(self.detection),
            "",
            "How to fix it",
            *_wrap(self.fix),
            "",
            "Docs",
            *(f"  {d}" for d in self.docs),
        ]
        return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 88) -> list[str]:
    out: list[str] = []
    for para in text.split("\n"):
        words = para.split(" ")
        line = " "
        for word in words:
            if len(line) + len(word) + 1 > width and line.strip():
                out.append(line)
                line = " "
            line += " " + word
        out.append(line)
    return out


EXPLANATIONS: dict[str, Explanation] = {
    e.kind: e
    for e in (
        Explanation(
            "wrong-url",
            "A variable holds a service's public URL (https://NAME.onrender.com, a "
            "*-postgres.render.com External Database URL, NAME.up.railway.app, a "
            "*.proxy.rlwy.net TCP proxy) while the caller is on the same private network. "
            "The traffic leaves the network and comes back: slower, billed as egress, subject "
            "to IP allow lists and TLS, and for free web services counted as outbound traffic.",
            "The host matches a platform's public address pattern and maps to a service of the "
            "workspace (by slug, database id, Key Value user or public domain) that shares the "
            "caller's region (Render) or project environment (Railway).",
            "Use the internal URL with its scheme and port (Render: http://SLUG:PORT, "
            "Connect → Internal; Railway: http://NAME.railway.internal:PORT). Keep it right "
            "with a Blueprint reference (fromService ... property: hostport, fromDatabase ... "
            "property: connectionString) or a Railway reference variable "
            "(http://${{api.RAILWAY_PRIVATE_DOMAIN}}:${{api.PORT}}, with PORT set on api).",
            (RENDER.private_network, RENDER.postgres, RAILWAY.domains, RAILWAY.variables),
        ),
        Explanation(
            "wrong-port",
            "The host is right, the port is not one the service listens on. Common causes: the "
            "public port (443, 80) used on an internal address, Render's default 10000 when the "
            "app binds elsewhere, or a Railway ${{api.PORT}} reference to a variable that was "
            "never set.",
            "The URL's port (explicit, or implied by its scheme) is not among the service's "
            "open ports in the model. Live, the connection is refused; pnet reports the cause, "
            "not the refusal.",
            "Point the variable at the port the service listens on (Render: the open ports of "
            "the service, deploy log 'Detected a new open port'; Railway: set PORT on the "
            "service and reference it).",
            (RENDER.private_network, RENDER.port_binding, RAILWAY.variables),
        ),
        Explanation(
            "cross-region",
            "Render: each region is its own private network. A service in oregon cannot reach "
            "a service or database in frankfurt over the private network: the internal name "
            "does not even resolve there.",
            "The source and the target service have different regions in the model. Live, "
            "the DNS answer from the source's network (NXDOMAIN) is shown as evidence.",
            "Either use the target's public URL (web services: https://SLUG.onrender.com; "
            "Postgres: the External Database URL with TLS; Key Value: the rediss:// External "
            "URL) and, for datastores, add the caller's outbound IPs to the target's IP allow "
            "list (an empty list refuses every external connection); or put both in one "
            "region. A region cannot be changed: that means creating the service again there "
            "and migrating. A private service has no public URL at all.",
            (RENDER.scope, RENDER.private_network, RENDER.postgres, RENDER.key_value),
        ),
        Explanation(
            "cross-environment",
            "Railway: every project environment (production, staging, a PR environment) has "
            "its own private network, and so does every project. NAME.railway.internal of "
            "staging does not exist in production. Render: an environment of a project with "
            "network isolation enabled (Professional workspaces) blocks private traffic in and "
            "out, even within one region.",
            "The source and the target are in different environments (or projects) in the "
            "model, or, on Render, one of their environments is isolated; live, the name does "
            "not resolve from the source's environment.",
            "Deploy the service in the caller's environment and reference it with "
            "${{NAME.RAILWAY_PRIVATE_DOMAIN}} (references resolve within the environment), or "
            "call the other environment's public domain. Render: turn isolation off "
            "(networking: {isolation: disabled}) or keep the two in one environment.",
            (RAILWAY.scope, RAILWAY.variables, RENDER.config),
        ),
        Explanation(
            "not-receiving",
            "The target's type cannot receive private traffic: Render background workers and "
            "cron jobs have no internal address, free web services can send but not receive, "
            "static sites are not on the private network.",
            "The target maps (by slug name, host or name) to a service whose type, in the "
            "platform's rules, does not receive. pnet does not probe it.",
            "Make it a private service (type: pserv) that binds the port it serves, or a paid "
            "web service; or call a free web service on its public URL.",
            (RENDER.private_network, RENDER.free, RENDER.private_services),
        ),
        Explanation(
            "missing-scheme",
            "A URL variable holds host:port with no scheme. Many clients then fail or treat the "
            "host as a scheme (`images-p0o9:7000` parses as scheme images-p0o9). A Blueprint "
            "`property: hostport` reference gives exactly that.",
            "A variable whose name says URL (…_URL, …_URI, …_ENDPOINT) holds host:port of a "
            "service that speaks HTTP, Redis or Postgres.",
            "Write the scheme: http://images-p0o9:7000 (redis:// for Key Value, postgresql:// "
            "for Postgres). Blueprints do not interpolate, so add the scheme in code or use a "
            "property that carries one (connectionString for datastores).",
            (RENDER.private_network, RENDER.config),
        ),
        Explanation(
            "tls-on-private",
            "https://, wss:// or rediss:// to an internal address. Private traffic is plain: "
            "no certificate exists for internal names, so the TLS handshake fails.",
            "The URL uses a TLS scheme and its host is an internal address. Live, a TLS error "
            "confirms it; a working TLS handshake (a service that terminates TLS itself) "
            "clears it.",
            "Use the plain scheme with the service's port: http://graph-z5x6:4000, "
            "redis://red-…:6379, http://NAME.railway.internal:PORT.",
            (RENDER.private_network, RAILWAY.scope),
        ),
        Explanation(
            "unknown-host",
            "The name does not resolve: a typo in a slug, a service name used instead of its "
            "slug (Render hostnames are NAME-xxxx), a database id instead of its host, or a "
            "service that is not deployed or suspended.",
            "Statically, a private-looking host that no service has, close to a known one; "
            "live, an NXDOMAIN or empty DNS answer. pnet suggests the closest known hosts by "
            "edit distance.",
            "Use the suggested host, or copy the internal address from the target's Connect → "
            "Internal tab (Railway: its RAILWAY_PRIVATE_DOMAIN).",
            (RENDER.private_network, RAILWAY.private_network),
        ),
        Explanation(
            "refused",
            "The name resolves, the address answers, but nothing accepts connections on that "
            "port: the process is not running, crashed, or listens on another port or address.",
            "Every TCP connection to the target's addresses was refused, and no more specific "
            "cause (wrong port, loopback or single-family bind, down instances) explains it.",
            "Check the service is running and binds 0.0.0.0 (Render) or :: (Railway) on the "
            "port the URL names; look at its deploy log and its open ports.",
            (RENDER.port_binding, RAILWAY.failed_to_respond),
        ),
        Explanation(
            "unreachable",
            "The name resolves but connections get no answer at all: packets are dropped "
            "(network isolation of a Render environment, a hung instance, a full accept queue).",
            "TCP connections to the target's addresses timed out or the network said unreachable.",
            "Check the instance is healthy and not overloaded, and that no isolation setting "
            "blocks private traffic between the two.",
            (RENDER.private_network, RAILWAY.scope),
        ),
        Explanation(
            "loopback-bind",
            "The service listens on 127.0.0.1 or localhost only: it works inside its own "
            "instance and refuses everyone else.",
            "A connection to the service's address was refused while a local listener on the "
            "same port is bound to loopback (seen with psutil inside the instance, or in the "
            "lab on the same machine); or, run inside the instance, its own port is bound to "
            "loopback only.",
            "Bind 0.0.0.0 (Render) or :: (Railway): uvicorn --host 0.0.0.0, gunicorn --bind "
            "0.0.0.0:$PORT, app.listen(PORT, '0.0.0.0').",
            (RENDER.port_binding, RAILWAY.failed_to_respond),
        ),
        Explanation(
            "ipv4-only-bind",
            "Railway environments created before 16 October 2025 are IPv6-only: private names "
            "resolve to IPv6 addresses only. A server bound to 0.0.0.0 listens on IPv4 only "
            "and refuses every private connection there.",
            "The name has AAAA records only, the IPv6 connection is refused, and the listener "
            "on that port is IPv4 only; or, inside the instance, its own port has IPv4 "
            "listeners only.",
            "Bind :: (dual stack): Express app.listen(PORT, '::'), gunicorn --bind [::]:PORT, "
            'next start --hostname ::, uvicorn --host "" (uvicorn on :: is IPv6 only).',
            (RAILWAY.scope, RAILWAY.private_network),
        ),
        Explanation(
            "ipv6-only-bind",
            "In a dual-stack network names resolve to IPv4 and IPv6. A server bound to :: with "
            "IPV6_V6ONLY (uvicorn --host :: in single-worker mode) refuses IPv4 clients.",
            "The IPv4 connection is refused while the IPv6 one is accepted, or the listener on "
            "that port is IPv6 only.",
            'Listen on both families: uvicorn --host "", gunicorn --bind [::]:PORT (dual '
            "stack), or two sockets (0.0.0.0 and ::).",
            (RAILWAY.scope,),
        ),
        Explanation(
            "reserved-port",
            "Render reserves ports 18012, 18013 and 19099 on the private network: traffic to "
            "them is not delivered. Its docs list 10000 too, but its own API reports 10000 as a "
            "private service's default open port, so pnet trusts the service's open ports "
            "there.",
            "A URL or a service's open ports use 18012, 18013 or 19099.",
            "Bind another port and point the URLs at it.",
            (RENDER.private_network,),
        ),
        Explanation(
            "too-many-ports",
            "Render opens at most 75 ports per service; the ports past the limit are not "
            "reachable.",
            "The service's open ports in the model number more than 75.",
            "Close the ports the service does not need, or split it into several services.",
            (RENDER.private_network,),
        ),
        Explanation(
            "instance-down",
            "The service runs several instances and some do not answer: clients that pick a "
            "dead address (DNS round robin, discovery) fail now and then.",
            "Discovery (Render: NAME-xxxx-discovery; Railway: the internal name) lists the "
            "instances, and pnet connects to each one; or discovery lists fewer instances "
            "than the model says.",
            "Look at the failing instances: logs, restarts, health checks, memory.",
            (RENDER.private_network,),
        ),
        Explanation(
            "http-error",
            "The network path works but the HTTP check answered 5xx (or an error on the "
            "service's health path), or accepted the connection and sent nothing.",
            "GET on the service's health path (or the URL's path) over the private network.",
            "Look at the service's logs around the request; the network is not the problem.",
            (RENDER.private_network,),
        ),
        Explanation(
            "client-side-private-url",
            "A variable that frameworks build into browser code (NEXT_PUBLIC_, VITE_, "
            "REACT_APP_, NUXT_PUBLIC_, EXPO_PUBLIC_, GATSBY_, PUBLIC_ for SvelteKit) holds a "
            "private address. Browsers are outside the private network: the request fails "
            "for every visitor.",
            "The variable's name has a browser prefix (or the source is a static site) and its "
            "host is an internal address.",
            "Give the browser the service's public URL, and keep the internal URL in a "
            "server-only variable for server-side calls (or proxy through an API route).",
            (RENDER.private_network, RAILWAY.private_network),
        ),
        Explanation(
            "public-database",
            "A Postgres database or Key Value store allows external connections from anywhere "
            "(0.0.0.0/0): only the password protects the data from the whole internet.",
            "The datastore's IP allow list contains 0.0.0.0/0 or ::/0.",
            "ipAllowList: [] to allow internal connections only, or list the CIDRs of the "
            "callers outside the platform.",
            (RENDER.config, RENDER.postgres, RENDER.key_value),
        ),
        Explanation(
            "build-phase",
            "Railway: private networking is not available during the build. A build command "
            "that runs migrations (prisma migrate, manage.py migrate, rails db:migrate, knex "
            "migrate, alembic upgrade, ...) against a private host fails with ENOTFOUND or a "
            "timeout.",
            "The service's build command contains a step that connects, and its database URL "
            "points at a private host.",
            "Run the step in the pre-deploy command or at the start of the start command "
            "(npx prisma migrate deploy && npm start); keep the build to building.",
            (RAILWAY.scope,),
        ),
        Explanation(
            "ipv6-only-name",
            "In a legacy (IPv6-only) Railway environment names resolve to AAAA records only. "
            "Clients that look up A records only fail with ENOTFOUND: ioredis before 5.8.2 "
            "and bullmq (family 4 by default), Node code with family: 4.",
            "A Redis URL whose host is in an IPv6-only environment (statically) or resolves to "
            "AAAA only (live), without family=0 or family=6 in the URL.",
            "Append ?family=0 to the URL (ioredis reads it), set family: 0 in bullmq's "
            "connection options, or upgrade ioredis to 5.8.2 or later.",
            (RAILWAY.ipv6_names, RAILWAY.libraries),
        ),
        Explanation(
            "auth-required",
            "The server asks for credentials the URL does not carry (Redis NOAUTH: Render Key "
            "Value with internal authentication turned on; Postgres password authentication "
            "with no password), or rejects the ones it carries.",
            "The Redis PING or the Postgres startup handshake answered that authentication is "
            "needed.",
            "Put the credentials in the URL: redis://default:PASSWORD@HOST:6379, "
            "postgresql://USER:PASSWORD@HOST:5432/DB, or use the Blueprint connectionString "
            "reference (it carries them).",
            (RENDER.key_value, RENDER.postgres),
        ),
        Explanation(
            "wrong-protocol",
            "The URL's scheme does not match what the target is or speaks: redis:// to a "
            "Postgres database, postgresql:// to a Key Value store, http:// to something that "
            "is not HTTP.",
            "Statically from the target's type (a datastore speaks its own protocol); live "
            "from the handshake (an HTTP, Redis or Postgres probe answered by another "
            "protocol).",
            "Point the variable at a service of the right kind, or use the scheme the target "
            "speaks.",
            (RENDER.private_network,),
        ),
        Explanation(
            "handshake-error",
            "The server accepted the connection and the protocol handshake, then answered with "
            "an error of its own: a Redis -ERR reply to PING, a PostgreSQL error such as a "
            "database or role that does not exist, or too many connections. The network path "
            "is fine; the application refuses the request.",
            "The Redis probe sends AUTH (when the URL carries a password) and PING; the Postgres "
            "probe sends a startup message with the URL's user and database. The error the "
            "server sent is the evidence, quoted as it came (passwords masked).",
            "Read the server's error: create the database or role the URL names, fix the "
            "database name in the URL, or look at the server's limits and logs.",
            (RENDER.postgres, RENDER.key_value),
        ),
    )
}


def explain(kind: str) -> str | None:
    e = EXPLANATIONS.get(kind)
    return e.text() if e else None
