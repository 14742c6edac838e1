"""Railway's public GraphQL API (https://backboard.railway.com/graphql/v2), read-only.

One project as a `Workspace`: its environments and their private networks (dual-stack when the
network carries the `SUPPORTS_IPV4_PRIVNETS` tag), the service instances of each environment
with their domains and the replicas their serving deployment runs, and every service's
unrendered variables, so `${{...}}` references resolve the way Railway resolves them.
A few requests in all: one for the project, two per environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any

import httpx

from pnet import platforms
from pnet.errors import InputError, SourceError
from pnet.model import EnvironmentInfo, EnvVar, Kind, Network, Platform, Service, Workspace
from pnet.platforms import railway
from pnet.sources.api import shapes
from pnet.sources.api.http import ApiClient, Pace, Progress, RetryPolicy, Say, bounded

RAILWAY_API = "https://backboard.railway.com/graphql/v2"
# 10 requests a second on Hobby (50 on Pro), and 100 / 1000 / 10000 an hour on Free / Hobby /
# Pro: X-RateLimit-Remaining and X-RateLimit-Reset tell the hourly budget, nothing the
# per-second one, so the window always applies.
PACE = Pace(concurrency=2, per_window=5, window=1.0, always=True)
IPV4_TAG = "SUPPORTS_IPV4_PRIVNETS"
MAX_SERVICES_PER_QUERY = 50
STABLE = ("SUCCESS", "SLEEPING", "CRASHED")
GONE = ("REMOVED", "REMOVING")

PROJECT_TOKEN_QUERY = """
query ProjectToken { projectToken { project { id name } environment { id name } } }
"""
PROJECTS_QUERY = """
query Projects { projects { edges { node { id name } } } }
"""
PROJECT_QUERY = """
query Project($id: String!) {
  project(id: $id) {
    id
    name
    environments { edges { node { id name } } }
    services { edges { node { id name } } }
  }
}
"""
DEPLOYMENTS = """
          latestDeployment { status instances { status } }
          activeDeployments { status instances { status } }"""
ENVIRONMENT_QUERY = """
query Environment($projectId: String!, $environmentId: String!) {
  environment(id: $environmentId, projectId: $projectId) {
    id
    name
    serviceInstances {
      edges {
        node {
          serviceId
          serviceName
          environmentId
          numReplicas
          region
          healthcheckPath
          buildCommand
          startCommand
          cronSchedule
          source { image repo }
          domains {
            serviceDomains { domain targetPort }
            customDomains { domain targetPort }
          }%s
        }
      }
    }
  }
  privateNetworks(environmentId: $environmentId) { name dnsName tags }
  shared: variables(projectId: $projectId, environmentId: $environmentId, unrendered: true)
}
"""


def variables_query(count: int) -> str:
    """One request for the (unrendered) variables of `count` services of an environment."""
    params = "".join(f", $s{i}: String!" for i in range(count))
    fields = "\n".join(
        f"  v{i}: variables(projectId: $projectId, environmentId: $environmentId, "
        f"serviceId: $s{i}, unrendered: true)"
        for i in range(count)
    )
    return (
        f"query Variables($projectId: String!, $environmentId: String!{params}) {{\n{fields}\n}}\n"
    )


async def fetch_railway(
    token: str,
    *,
    kind: str = "account",
    project_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    endpoint: str = RAILWAY_API,
    say: Say | None = None,
    retry: RetryPolicy | None = None,
) -> Workspace:
    """One Railway project: its environments, their networks, services and variables.

    `kind` is `account` (an account or workspace token, `RAILWAY_API_TOKEN`), `project` (a
    project token, `RAILWAY_TOKEN`, which reads its one environment) or `unknown` (a token
    from a file: tried as an account token, then as a project token).
    """
    host = httpx.URL(endpoint).host or "backboard.railway.com"
    progress = Progress(say, "Railway API")
    async with ApiClient(
        base_url="",
        headers=_auth(token, kind == "project"),
        host=host,
        pace=PACE,
        retry=retry,
        progress=progress,
        transport=transport,
    ) as client:
        reader = _Reader(client, endpoint, progress)
        if kind == "unknown":
            try:
                return await reader.read(project_id, project_token=False)
            except InputError as exc:
                if "refused" not in exc.message:
                    raise
            client.http.headers.pop("Authorization", None)
            client.http.headers.update(_auth(token, True))
        return await reader.read(project_id, project_token=kind != "account")


def _auth(token: str, project: bool) -> dict[str, str]:
    return {"Project-Access-Token": token} if project else {"Authorization": f"Bearer {token}"}


def _refused(message: str) -> bool:
    low = message.lower()
    return any(w in low for w in ("not authorized", "unauthorized", "forbidden", "invalid token"))


class _Reader:
    def __init__(self, client: ApiClient, endpoint: str, progress: Progress) -> None:
        self.client = client
        self.endpoint = endpoint
        self.progress = progress
        self.host = client.host

    async def answer(
        self, query: str, variables: Mapping[str, Any], what: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The `data` of a GraphQL answer and its `errors` (each with a message)."""
        body = await self.client.post_json(
            self.endpoint, what, {"query": query, "variables": dict(variables)}
        )
        body = shapes.expect(body, dict, what, self.host)
        raw = body.get("errors")
        errors = [
            e if isinstance(e, dict) else {"message": str(e)}
            for e in (raw if isinstance(raw, list) else [raw] if raw else [])
        ]
        data = body.get("data")
        if errors and not isinstance(data, dict):
            data = {}
        return shapes.expect(data, dict, what, self.host), errors

    async def gql(self, query: str, variables: Mapping[str, Any], what: str) -> dict[str, Any]:
        data, errors = await self.answer(query, variables, what)
        if errors:
            raise self.failure(errors[0], what)
        return data

    def failure(self, error: Mapping[str, Any], what: str) -> InputError | SourceError:
        message = " ".join(str(error.get("message") or "an error without a message").split())
        if _refused(message):
            return InputError(f"{what}: the API refused the token ({message[:200]})", self.host)
        if "not found" in message.lower():
            return InputError(f"{what}: {message[:200]}", self.host)
        return SourceError(f"{what}: the API answered an error: {message[:200]}", self.host)

    async def read(self, project_id: str | None, project_token: bool) -> Workspace:
        only_env: str | None = None
        self.progress.stage("project")
        if project_token:
            data = await self.gql(PROJECT_TOKEN_QUERY, {}, "projectToken")
            info = shapes.expect(data.get("projectToken"), dict, "projectToken", self.host)
            project_id = str(shapes.nested(info, "project", "id") or project_id or "")
            only_env = shapes.text(shapes.nested(info, "environment", "id"))
        if not project_id:
            project_id = await self._only_project()
        data = await self.gql(PROJECT_QUERY, {"id": project_id}, "project")
        project = shapes.expect(data.get("project"), dict, "project", self.host)
        pname = str(project.get("name") or project_id)
        envs = [
            e
            for e in shapes.edges(project.get("environments"))
            if only_env is None or e.get("id") == only_env
        ]
        self.progress.stage("environments", len(envs))
        per_env = await bounded(
            [partial(self._environment, project_id or "", pname, e) for e in envs], 2
        )
        services: list[Service] = []
        environments: dict[str, EnvironmentInfo] = {}
        notes: list[str] = []
        for info, env_services, env_notes in per_env:
            environments[info.name] = info
            services.extend(env_services)
            notes.extend(env_notes)
        self.progress.stage(f"{len(services)} services read")
        return Workspace(
            name=pname,
            platform=Platform.RAILWAY,
            services=tuple(services),
            project=pname,
            environments=environments,
            source=f"Railway API ({self.host})",
            notes=tuple(notes),
        )

    async def _only_project(self) -> str:
        data = await self.gql(PROJECTS_QUERY, {}, "projects")
        projects = shapes.edges(data.get("projects"))
        if len(projects) == 1:
            return str(projects[0].get("id"))
        if not projects:
            raise InputError("the token reaches no Railway project", self.host)
        names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in projects)
        raise InputError(
            f"the token reaches {len(projects)} projects: name one with "
            f"RAILWAY_PROJECT_ID=ID ({names})"
        )

    async def _environment(
        self, project_id: str, project: str, env: dict[str, Any]
    ) -> tuple[EnvironmentInfo, list[Service], list[str]]:
        env_id = str(env.get("id"))
        env_name = str(env.get("name") or env_id)
        what = f"environment {env_name!r}"
        notes: list[str] = []
        args = {"projectId": project_id, "environmentId": env_id}
        data, errors = await self.answer(ENVIRONMENT_QUERY % DEPLOYMENTS, args, what)
        if errors:
            if not all(_about_deployments(e) for e in errors):
                raise self.failure(errors[0], what)
            message = " ".join(str(errors[0].get("message") or "").split())[:120]
            notes.append(f"{what}: replicas unknown, the API did not say ({message})")
            data = await self.gql(ENVIRONMENT_QUERY % "", args, what)
        try:
            body = shapes.expect(data.get("environment"), dict, what, self.host)
            instances = shapes.edges(body.get("serviceInstances"))[:MAX_SERVICES_PER_QUERY]
            networks = shapes.as_list(data.get("privateNetworks"))
            tags = {
                str(t)
                for n in networks
                if isinstance(n, dict)
                for t in shapes.as_list(n.get("tags"))
            }
            network = Network.DUAL_STACK if IPV4_TAG in tags else Network.IPV6_ONLY
            if not networks:
                notes.append(f"{what} reports no private network yet")
            shared = shapes.variables(data.get("shared"))
            raw_vars: list[dict[str, str]] = []
            if instances:
                query = variables_query(len(instances))
                vargs: dict[str, Any] = dict(args)
                vargs.update({f"s{i}": str(n.get("serviceId")) for i, n in enumerate(instances)})
                vdata = await self.gql(query, vargs, f"variables of {what}")
                raw_vars = [shapes.variables(vdata.get(f"v{i}")) for i in range(len(instances))]
            services = [
                self._service(node, variables, env_name, project, notes)
                for node, variables in zip(instances, raw_vars, strict=True)
            ]
            services = _resolve(services, raw_vars, shared, project)
        finally:
            self.progress.step()
        return EnvironmentInfo(env_name, network), services, notes

    def _service(
        self,
        node: dict[str, Any],
        variables: dict[str, str],
        env_name: str,
        project: str,
        notes: list[str],
    ) -> Service:
        name = str(node.get("serviceName") or node.get("serviceId"))
        image = str(shapes.nested(node, "source", "image") or "").lower()
        domains = [
            d
            for group in ("serviceDomains", "customDomains")
            for d in shapes.as_list(shapes.nested(node, "domains", group))
            if isinstance(d, dict) and d.get("domain")
        ]
        kind = _kind(image, variables, bool(domains), bool(node.get("cronSchedule")))
        host = variables.get("RAILWAY_PRIVATE_DOMAIN") or railway.default_host(name)
        port_text = variables.get("PORT", "")
        ports: tuple[int, ...] = ()
        targets = sorted(
            {p for d in domains if (p := shapes.port(d.get("targetPort"))) is not None}
        )
        if port_text.isdigit() and shapes.port(int(port_text)):
            ports = (int(port_text),)
        elif targets:
            ports = tuple(targets)
        elif kind is Kind.POSTGRES:
            ports = (railway.POSTGRES_PORT,)
        elif kind is Kind.KEYVALUE:
            ports = (railway.REDIS_PORT,)
        public = variables.get("RAILWAY_PUBLIC_DOMAIN") or (
            str(domains[0]["domain"]) if domains else None
        )
        replicas = _replicas(node, f"{name} ({env_name})", notes)
        return Service(
            name=name,
            type=platforms.service_type(Platform.RAILWAY, kind, None),
            platform=Platform.RAILWAY,
            region=shapes.text(node.get("region")),
            environment=env_name,
            project=project,
            host=host,
            ports=ports,
            public_url=f"https://{public}" if public else None,
            instances=replicas,
            health_path=shapes.text(node.get("healthcheckPath")),
            id=shapes.text(node.get("serviceId")),
            build_command=shapes.text(node.get("buildCommand")),
            start_command=shapes.text(node.get("startCommand")),
            user=_literal(variables.get("PGUSER") or variables.get("REDISUSER")),
            password=_literal(variables.get("PGPASSWORD") or variables.get("REDISPASSWORD")),
            database=_literal(variables.get("PGDATABASE")),
        )


def _about_deployments(error: Mapping[str, Any]) -> bool:
    path = [str(p) for p in shapes.as_list(error.get("path"))]
    return any(p in ("latestDeployment", "activeDeployments", "instances") for p in path)


def _replicas(node: Mapping[str, Any], who: str, notes: list[str]) -> int:
    """How many replicas the serving deployment runs (the stable active one, else the latest),
    not counting removed ones; the configured `numReplicas` when the API does not say."""
    configured = shapes.integer(node.get("numReplicas"), 1)
    active = [d for d in shapes.as_list(node.get("activeDeployments")) if isinstance(d, dict)]
    latest = node.get("latestDeployment")
    chosen = next((d for d in active if d.get("status") in STABLE), None)
    if chosen is None and isinstance(latest, dict):
        chosen = latest
    if chosen is None or not isinstance(chosen.get("instances"), list):
        return configured
    states = [str(i.get("status")) for i in chosen["instances"] if isinstance(i, dict)]
    live = [s for s in states if s not in GONE]
    if not live:
        if chosen.get("status") == "SLEEPING":
            notes.append(f"{who} is asleep (serverless): nothing answers until a request wakes it")
            return 0
        return configured
    running = live.count("RUNNING")
    if running < len(live):
        others = ", ".join(f"{live.count(s)} {s.lower()}" for s in sorted(set(live) - {"RUNNING"}))
        notes.append(f"{who}: {running} of {len(live)} replicas running ({others})")
    return len(live)


def _literal(value: str | None) -> str | None:
    return None if value is None or railway.has_reference(value) else value


def _kind(image: str, variables: Mapping[str, str], public: bool, cron: bool) -> Kind:
    if "postgres" in image or ("PGHOST" in variables and "PGPASSWORD" in variables):
        return Kind.POSTGRES
    if "redis" in image or "valkey" in image or "REDISHOST" in variables:
        return Kind.KEYVALUE
    if cron:
        return Kind.CRON
    return Kind.WEB if public else Kind.PSERV


def _resolve(
    services: list[Service],
    raw_vars: list[dict[str, str]],
    shared: dict[str, str],
    project: str,
) -> list[Service]:
    pools: dict[str, dict[str, str]] = {}
    for svc, variables in zip(services, raw_vars, strict=True):
        pool = railway.provided_variables(
            name=svc.name,
            host=svc.host,
            public_domain=railway.public_domain_of(svc.public_url),
            environment=svc.environment,
            project=project,
        )
        pool.update(variables)
        pools[svc.name] = pool
    out = []
    for svc, variables in zip(services, raw_vars, strict=True):
        env = []
        for key, value in sorted(variables.items()):
            if key.startswith(railway.PROVIDED_PREFIX):
                continue
            if railway.has_reference(value):
                res = railway.resolve(value, service=svc.name, variables=pools, shared=shared)
                env.append(
                    EnvVar(
                        key,
                        res.value,
                        "reference",
                        resolved=res.resolved,
                        note=res.note,
                        ref_service=res.ref_service,
                        ref_key=res.ref_key,
                    )
                )
            else:
                env.append(EnvVar(key, value))
        if svc.kind.is_datastore:
            got = {v.key: v.value for v in env if v.value is not None}
            password = got.get("PGPASSWORD") or got.get("REDISPASSWORD") or svc.password
            svc = replace(
                svc,
                user=got.get("PGUSER") or got.get("REDISUSER") or svc.user,
                password=password,
                database=got.get("PGDATABASE") or svc.database,
                internal_auth=svc.kind is Kind.KEYVALUE and password is not None,
            )
        out.append(replace(svc, env=tuple(env)))
    return out


__all__ = ["PACE", "RAILWAY_API", "fetch_railway", "variables_query"]
