"""The platforms' APIs: Render's REST API and Railway's GraphQL API, read-only.

Keys come from `RENDER_API_KEY` and `RAILWAY_API_TOKEN` (an account or workspace token) or
`RAILWAY_TOKEN` (a project token). Every request is bounded (timeout, pages, concurrency)
and every failure (refused key, rate limit, network down, an answer that is not the
documented JSON) is one `InputError` line that never contains the key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

import httpx

from pnet import __version__, platforms
from pnet.errors import InputError
from pnet.model import EnvironmentInfo, EnvVar, Kind, Network, Platform, Service, Workspace
from pnet.platforms import railway, render

RENDER_API = "https://api.render.com/v1"
RAILWAY_API = "https://backboard.railway.com/graphql/v2"
TIMEOUT = httpx.Timeout(20.0, connect=10.0)
PAGE_LIMIT = 100
MAX_PAGES = 50
CONCURRENCY = 4
USER_AGENT = f"pnet/{__version__}"
IPV4_TAG = "SUPPORTS_IPV4_PRIVNETS"

RENDER_TYPES = {
    "web_service": Kind.WEB,
    "private_service": Kind.PSERV,
    "background_worker": Kind.WORKER,
    "cron_job": Kind.CRON,
    "static_site": Kind.STATIC,
}

T = TypeVar("T")


@dataclass(frozen=True)
class ApiChoice:
    """Which API `--api` names: `render`, `render:WORKSPACE`, `railway`, `railway:PROJECT`."""

    platform: Platform
    scope: str | None = None


def parse_choice(text: str) -> ApiChoice:
    name, _, scope = text.partition(":")
    try:
        platform = Platform(name.strip().lower())
    except ValueError:
        raise InputError(
            f"unknown API {name!r}: expected render, render:WORKSPACE, railway or "
            "railway:PROJECT_ID"
        ) from None
    return ApiChoice(platform, scope.strip() or None)


def load(
    choice: str,
    environ: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Workspace:
    """Synchronous entry point: the workspace the named API describes."""
    picked = parse_choice(choice)
    if picked.platform is Platform.RENDER:
        key = environ.get("RENDER_API_KEY", "").strip()
        if not key:
            raise InputError("the Render API needs a key: set RENDER_API_KEY (Account Settings)")
        return asyncio.run(fetch_render(key, workspace=picked.scope, transport=transport))
    token = environ.get("RAILWAY_API_TOKEN", "").strip()
    project_token = environ.get("RAILWAY_TOKEN", "").strip()
    if not token and not project_token:
        raise InputError(
            "the Railway API needs a token: set RAILWAY_API_TOKEN (account or workspace "
            "token) or RAILWAY_TOKEN (project token)"
        )
    return asyncio.run(
        fetch_railway(
            token or project_token,
            project_token=not token,
            project_id=picked.scope or environ.get("RAILWAY_PROJECT_ID") or None,
            transport=transport,
        )
    )


# ---- HTTP plumbing ------------------------------------------------------------------------


async def _get_json(
    client: httpx.AsyncClient, method: str, url: str, what: str, host: str, **kwargs: Any
) -> Any:
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise InputError(f"{what}: no answer in time", host) from None
    except httpx.HTTPError as exc:
        reason = str(exc) or type(exc).__name__
        raise InputError(f"{what}: cannot reach the API ({reason})", host) from None
    status = response.status_code
    if status >= 400:
        raise InputError(f"{what}: {_status_text(response)}", host)
    try:
        return response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{what}: the answer is not JSON", host) from None


def _status_text(response: httpx.Response) -> str:
    status = response.status_code
    if status == 401:
        return "the API refused the key (401 Unauthorized)"
    if status == 403:
        return "the key may not read this (403 Forbidden)"
    if status == 429:
        wait = response.headers.get("retry-after") or response.headers.get("ratelimit-reset")
        later = f"try again in {wait} s" if wait and wait.isdigit() else "try again later"
        return f"rate limited (429): {later}"
    detail = ""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        errors = body.get("errors")
        first = errors[0] if isinstance(errors, list) and errors else body
        message = first.get("message") if isinstance(first, dict) else None
        if isinstance(message, str) and message:
            detail = f": {message[:200]}"
    if status == 404:
        return f"not found (404){detail}"
    return f"the API answered HTTP {status}{detail}"


def _client(
    base_url: str,
    headers: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **headers},
        timeout=TIMEOUT,
        transport=transport,
        follow_redirects=False,
    )


async def _bounded(jobs: list[Callable[[], Awaitable[T]]], limit: int = CONCURRENCY) -> list[T]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(one(j) for j in jobs)))


def _shape(value: Any, kind: type, what: str, host: str) -> Any:
    if not isinstance(value, kind):
        expected = "a list" if kind is list else "an object"
        raise InputError(f"{what}: unexpected answer (expected {expected})", host)
    return value


# ---- Render -------------------------------------------------------------------------------


async def fetch_render(
    api_key: str,
    *,
    workspace: str | None = None,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = RENDER_API,
) -> Workspace:
    """Every service, Postgres database and Key Value instance of one Render workspace.

    `workspace` names the workspace (owner id or name) when the key reaches several.
    """
    if client is not None:
        return await _RenderReader(client).read(workspace)
    headers = {"Authorization": f"Bearer {api_key}"}
    async with _client(base_url, headers, transport) as own:
        return await _RenderReader(own).read(workspace)


class _RenderReader:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.host = client.base_url.host or "api.render.com"

    async def _list(
        self, path: str, item_key: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """All items of a cursor-paginated list: `[{cursor, <item_key>: {...}}, ...]`."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        for _ in range(MAX_PAGES):
            query = {"limit": str(PAGE_LIMIT), **(params or {})}
            if cursor:
                query["cursor"] = cursor
            what = f"GET {path}"
            page = _shape(
                await _get_json(
                    self.client, "GET", path.lstrip("/"), what, self.host, params=query
                ),
                list,
                what,
                self.host,
            )
            for entry in page:
                if not isinstance(entry, dict) or not isinstance(entry.get(item_key), dict):
                    raise InputError(
                        f"{what}: unexpected answer (items without {item_key!r})", self.host
                    )
                out.append(entry[item_key])
            if len(page) < PAGE_LIMIT:
                return out
            last = page[-1].get("cursor")
            if not isinstance(last, str) or not last or last == cursor:
                return out
            cursor = last
        raise InputError(f"GET {path}: more than {MAX_PAGES * PAGE_LIMIT} items", self.host)

    async def read(self, workspace: str | None) -> Workspace:
        owners = await self._list("/owners", "owner")
        owner = self._pick_owner(owners, workspace)
        owner_id = str(owner.get("id", ""))
        scope = {"ownerId": owner_id} if owner_id else {}
        services, databases, stores, groups = await asyncio.gather(
            self._list("/services", "service", {**scope, "includePreviews": "false"}),
            self._list("/postgres", "postgres", scope),
            self._list("/key-value", "keyValue", scope),
            self._list("/env-groups", "envGroup", scope),
        )
        group_vars = await self._group_vars(
            [g for g in groups if _owned(g.get("ownerId"), owner_id)]
        )
        services = [s for s in services if _owned(s.get("ownerId"), owner_id)]
        databases = [d for d in databases if _owned(_owner_of(d), owner_id)]
        stores = [k for k in stores if _owned(_owner_of(k), owner_id)]
        with_env = [s for s in services if s.get("type") != "static_site" and s.get("id")]
        env_lists = await _bounded(
            [partial(self._list, f"/services/{s['id']}/env-vars", "envVar") for s in with_env]
        )
        env_by_id = {str(s["id"]): e for s, e in zip(with_env, env_lists, strict=True)}
        notes: list[str] = []
        places = await self._environments(scope, notes)
        model: list[Service] = []
        for raw in services:
            svc = self._service(raw, env_by_id.get(str(raw.get("id")), []), notes)
            if svc is not None:
                linked = group_vars.get(str(raw.get("id")), [])
                own = {v.key for v in svc.env}
                extra = tuple(v for v in linked if v.key not in own)
                svc = replace(svc, env=extra + svc.env) if extra else svc
                model.append(_placed(svc, raw, places))
        for raw in databases:
            model.extend(_placed(s, raw, places) for s in self._postgres_and_replicas(raw))
        model.extend(_placed(self._keyvalue(k), k, places) for k in stores)
        return Workspace(
            name=str(owner.get("name") or owner_id or "render"),
            platform=Platform.RENDER,
            services=tuple(model),
            environments={info.name: info for _, info in places.values()},
            source=f"Render API ({self.host})",
            notes=tuple(notes),
        )

    async def _environments(
        self, scope: Mapping[str, str], notes: list[str]
    ) -> dict[str, tuple[str, EnvironmentInfo]]:
        """Environment id -> (project name, `project/environment` with its isolation)."""
        try:
            projects = await self._list("/projects", "project", scope)
            envs = await _bounded(
                [
                    partial(self._list, "/environments", "environment", {"projectId": str(p["id"])})
                    for p in projects
                    if p.get("id")
                ]
            )
        except InputError as exc:
            notes.append(f"projects and environments unknown ({exc.message})")
            return {}
        names = {str(p.get("id")): str(p.get("name") or p.get("id")) for p in projects}
        out: dict[str, tuple[str, EnvironmentInfo]] = {}
        for env_list in envs:
            for env in env_list:
                project = names.get(str(env.get("projectId")), str(env.get("projectId")))
                key = f"{project}/{env.get('name') or env.get('id')}"
                isolated = env.get("networkIsolationEnabled") is True
                out[str(env.get("id"))] = (project, EnvironmentInfo(key, isolated=isolated))
        return out

    def _pick_owner(self, owners: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
        if wanted:
            for owner in owners:
                if wanted in (owner.get("id"), owner.get("name")):
                    return owner
            names = ", ".join(str(o.get("name") or o.get("id")) for o in owners) or "none"
            raise InputError(f"the key reaches no workspace {wanted!r} (it reaches: {names})")
        if len(owners) == 1:
            return owners[0]
        if not owners:
            raise InputError("the key reaches no Render workspace", self.host)
        names = ", ".join(f"{o.get('name')} ({o.get('id')})" for o in owners)
        raise InputError(
            f"the key reaches {len(owners)} workspaces, which are separate private networks: "
            f"name one with --api render:WORKSPACE ({names})"
        )

    def _service(
        self, raw: dict[str, Any], env_vars: list[dict[str, Any]], notes: list[str]
    ) -> Service | None:
        name = str(raw.get("name") or raw.get("slug") or raw.get("id") or "?")
        kind = RENDER_TYPES.get(str(raw.get("type")))
        if kind is None:
            notes.append(f"service {name!r} has type {raw.get('type')!r}, which pnet skips")
            return None
        details = raw.get("serviceDetails")
        details = details if isinstance(details, dict) else {}
        plan = _text(details.get("plan"))
        region = _text(details.get("region")) if kind is not Kind.STATIC else None
        stype = platforms.service_type(Platform.RENDER, kind, plan)
        slug = _text(raw.get("slug"))
        env = tuple(
            EnvVar(str(e.get("key")), None if e.get("value") is None else str(e.get("value")))
            for e in env_vars
            if e.get("key")
        )
        ports = tuple(
            dict.fromkeys(
                port
                for p in _as_list(details.get("openPorts"))
                if isinstance(p, dict) and (port := _port(p.get("port"))) is not None
            )
        )
        if not ports and stype.has_internal_address:
            port_var = next((e.value for e in env if e.key == "PORT"), None)
            url = _text(details.get("url")) or ""
            tail = url.rpartition(":")[2]
            if port_var and port_var.isdigit() and _port(int(port_var)):
                ports = (int(port_var),)
            elif kind is Kind.PSERV and tail.isdigit() and _port(int(tail)):
                ports = (int(tail),)
            else:
                ports = (render.DEFAULT_PORT,)
        if not stype.has_internal_address:
            ports = ()
        link = _text(details.get("url"))
        public_url = link if link and link.startswith("http") and stype.has_public_url else None
        if raw.get("suspended") == "suspended":
            notes.append(f"service {name!r} is suspended: nothing answers at its address")
        allow = details.get("ipAllowList")
        autoscaling = details.get("autoscaling")
        instances = _int(details.get("numInstances"), 1)
        if isinstance(autoscaling, dict) and autoscaling.get("enabled"):
            instances = _int(autoscaling.get("min"), instances)
        health = _text(details.get("healthCheckPath"))
        return Service(
            name=name,
            type=stype,
            platform=Platform.RENDER,
            region=region,
            plan=plan,
            host=slug if stype.has_internal_address else None,
            ports=ports,
            public_url=public_url,
            env=env,
            instances=instances,
            health_path=health or None,
            ip_allow_list=_cidrs(allow) if isinstance(allow, list) else None,
            id=_text(raw.get("id")),
            runtime=_text(details.get("runtime")) or _text(details.get("env")),
            build_command=_text(details.get("buildCommand")),
            start_command=_text(_nested(details, "envSpecificDetails", "startCommand")),
        )

    async def _group_vars(self, groups: list[dict[str, Any]]) -> dict[str, list[EnvVar]]:
        """Each linked service's variables from its environment groups (its own win)."""
        need = [g for g in groups if g.get("id") and not isinstance(g.get("envVars"), list)]
        full = await _bounded(
            [partial(self._get, f"/env-groups/{g['id']}", "GET /env-groups/{id}") for g in need]
        )
        detail = {str(g["id"]): f for g, f in zip(need, full, strict=True)}
        out: dict[str, list[EnvVar]] = {}
        for group in groups:
            body = detail.get(str(group.get("id")), group)
            name = str(body.get("name") or group.get("name") or group.get("id"))
            variables = [
                EnvVar(str(e["key"]), _text(e.get("value")) or "", "fromGroup", ref_service=name)
                for e in _as_list(body.get("envVars"))
                if isinstance(e, dict) and e.get("key")
            ]
            for link in _as_list(body.get("serviceLinks")) or _as_list(group.get("serviceLinks")):
                if isinstance(link, dict) and link.get("id"):
                    bucket = out.setdefault(str(link["id"]), [])
                    seen = {v.key for v in bucket}
                    bucket.extend(v for v in variables if v.key not in seen)
        return out

    async def _get(self, path: str, what: str) -> dict[str, Any]:
        body: dict[str, Any] = _shape(
            await _get_json(self.client, "GET", path.lstrip("/"), what, self.host),
            dict,
            what,
            self.host,
        )
        return body

    def _postgres_and_replicas(self, raw: dict[str, Any]) -> list[Service]:
        primary = self._postgres(raw)
        out = [primary]
        for rep in _as_list(raw.get("readReplicas")):
            if isinstance(rep, dict) and rep.get("id"):
                rid = str(rep["id"])
                out.append(replace(primary, name=str(rep.get("name") or rid), host=rid, id=rid))
        return out

    def _postgres(self, raw: dict[str, Any]) -> Service:
        plan = _text(raw.get("plan"))
        allow = raw.get("ipAllowList")
        return Service(
            name=str(raw.get("name") or raw.get("id")),
            type=platforms.service_type(Platform.RENDER, Kind.POSTGRES, plan),
            platform=Platform.RENDER,
            region=_text(raw.get("region")),
            plan=plan,
            host=_text(raw.get("id")),
            ports=(render.POSTGRES_PORT,),
            ip_allow_list=_cidrs(allow) if isinstance(allow, list) else None,
            id=_text(raw.get("id")),
            database=_text(raw.get("databaseName")),
            user=_text(raw.get("databaseUser")),
        )

    def _keyvalue(self, raw: dict[str, Any]) -> Service:
        plan = _text(raw.get("plan"))
        allow = raw.get("ipAllowList")
        return Service(
            name=str(raw.get("name") or raw.get("id")),
            type=platforms.service_type(Platform.RENDER, Kind.KEYVALUE, plan),
            platform=Platform.RENDER,
            region=_text(raw.get("region")),
            plan=plan,
            host=_text(raw.get("id")),
            ports=(render.KEYVALUE_PORT,),
            ip_allow_list=_cidrs(allow) if isinstance(allow, list) else None,
            id=_text(raw.get("id")),
        )


def _placed(
    svc: Service, raw: Mapping[str, Any], places: Mapping[str, tuple[str, EnvironmentInfo]]
) -> Service:
    place = places.get(str(raw.get("environmentId")))
    if place is None:
        return svc
    return replace(svc, project=place[0], environment=place[1].name)


def _owned(owner: Any, owner_id: str) -> bool:
    return not owner_id or owner is None or str(owner) == owner_id


def _owner_of(raw: dict[str, Any]) -> Any:
    owner = raw.get("owner")
    if isinstance(owner, dict):
        return owner.get("id")
    return raw.get("ownerId")


def _cidrs(entries: list[Any]) -> tuple[str, ...]:
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            block = entry.get("cidrBlock") or entry.get("source")
            if isinstance(block, str) and block:
                out.append(block)
    return tuple(out)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    text = str(value)
    return text or None


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _nested(node: Mapping[str, Any], *keys: str) -> Any:
    value: Any = node
    for key in keys:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


# ---- Railway ------------------------------------------------------------------------------

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
          startCommand
          cronSchedule
          source { image repo }
          domains {
            serviceDomains { domain targetPort }
            customDomains { domain targetPort }
          }
        }
      }
    }
  }
  privateNetworks(environmentId: $environmentId) { name dnsName tags }
  shared: variables(projectId: $projectId, environmentId: $environmentId, unrendered: true)
}
"""
MAX_SERVICES_PER_QUERY = 50


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
    project_token: bool = False,
    project_id: str | None = None,
    client: httpx.AsyncClient | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    endpoint: str = RAILWAY_API,
) -> Workspace:
    """One Railway project: its environments, their networks, services and variables."""
    if client is not None:
        return await _RailwayReader(client, endpoint).read(project_id, project_token)
    header = (
        {"Project-Access-Token": token} if project_token else {"Authorization": f"Bearer {token}"}
    )
    async with _client("", header, transport) as own:
        return await _RailwayReader(own, endpoint).read(project_id, project_token)


class _RailwayReader:
    def __init__(self, client: httpx.AsyncClient, endpoint: str) -> None:
        self.client = client
        self.endpoint = endpoint
        self.host = httpx.URL(endpoint).host or "backboard.railway.com"

    async def gql(self, query: str, variables: Mapping[str, Any], what: str) -> dict[str, Any]:
        body = await _get_json(
            self.client,
            "POST",
            self.endpoint,
            what,
            self.host,
            json={"query": query, "variables": dict(variables)},
        )
        body = _shape(body, dict, what, self.host)
        errors = body.get("errors")
        if errors:
            first = errors[0] if isinstance(errors, list) and errors else errors
            message = first.get("message") if isinstance(first, dict) else str(first)
            if isinstance(message, str) and "not authorized" in message.lower():
                raise InputError(f"{what}: the API refused the token ({message})", self.host)
            raise InputError(f"{what}: {message}", self.host)
        data: dict[str, Any] = _shape(body.get("data"), dict, what, self.host)
        return data

    async def read(self, project_id: str | None, project_token: bool) -> Workspace:
        only_env: str | None = None
        if project_token:
            data = await self.gql(PROJECT_TOKEN_QUERY, {}, "projectToken")
            info = _shape(data.get("projectToken"), dict, "projectToken", self.host)
            project_id = str(_nested(info, "project", "id") or project_id or "")
            only_env = _text(_nested(info, "environment", "id"))
        if not project_id:
            project_id = await self._only_project()
        data = await self.gql(PROJECT_QUERY, {"id": project_id}, "project")
        project = _shape(data.get("project"), dict, "project", self.host)
        pname = str(project.get("name") or project_id)
        envs = [
            e
            for e in _edges(project.get("environments"))
            if only_env is None or e.get("id") == only_env
        ]
        per_env = await _bounded(
            [partial(self._environment, project_id or "", pname, e) for e in envs], 2
        )
        services: list[Service] = []
        environments: dict[str, EnvironmentInfo] = {}
        notes: list[str] = []
        for info, env_services, env_notes in per_env:
            environments[info.name] = info
            services.extend(env_services)
            notes.extend(env_notes)
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
        projects = _edges(data.get("projects"))
        if len(projects) == 1:
            return str(projects[0].get("id"))
        if not projects:
            raise InputError("the token reaches no Railway project", self.host)
        names = ", ".join(f"{p.get('name')} ({p.get('id')})" for p in projects)
        raise InputError(
            f"the token reaches {len(projects)} projects: name one with --api railway:PROJECT_ID "
            f"or RAILWAY_PROJECT_ID ({names})"
        )

    async def _environment(
        self, project_id: str, project: str, env: dict[str, Any]
    ) -> tuple[EnvironmentInfo, list[Service], list[str]]:
        env_id = str(env.get("id"))
        env_name = str(env.get("name") or env_id)
        what = f"environment {env_name!r}"
        data = await self.gql(
            ENVIRONMENT_QUERY, {"projectId": project_id, "environmentId": env_id}, what
        )
        body = _shape(data.get("environment"), dict, what, self.host)
        instances = _edges(body.get("serviceInstances"))[:MAX_SERVICES_PER_QUERY]
        networks = _as_list(data.get("privateNetworks"))
        tags = {str(t) for n in networks if isinstance(n, dict) for t in _as_list(n.get("tags"))}
        network = Network.DUAL_STACK if IPV4_TAG in tags else Network.IPV6_ONLY
        notes: list[str] = []
        if not networks:
            notes.append(f"{what} reports no private network yet")
        shared = _variables(data.get("shared"))
        raw_vars: list[dict[str, str]] = []
        if instances:
            query = variables_query(len(instances))
            args: dict[str, Any] = {"projectId": project_id, "environmentId": env_id}
            args.update({f"s{i}": str(n.get("serviceId")) for i, n in enumerate(instances)})
            vdata = await self.gql(query, args, f"variables of {what}")
            raw_vars = [_variables(vdata.get(f"v{i}")) for i in range(len(instances))]
        services = [
            self._service(node, variables, env_name, project)
            for node, variables in zip(instances, raw_vars, strict=True)
        ]
        services = _resolve(services, raw_vars, shared, project)
        return EnvironmentInfo(env_name, network), services, notes

    def _service(
        self, node: dict[str, Any], variables: dict[str, str], env_name: str, project: str
    ) -> Service:
        name = str(node.get("serviceName") or node.get("serviceId"))
        image = str(_nested(node, "source", "image") or "").lower()
        domains = [
            d
            for group in ("serviceDomains", "customDomains")
            for d in _as_list(_nested(node, "domains", group))
            if isinstance(d, dict) and d.get("domain")
        ]
        kind = _railway_kind(image, variables, bool(domains), bool(node.get("cronSchedule")))
        host = variables.get("RAILWAY_PRIVATE_DOMAIN") or railway.default_host(name)
        port_text = variables.get("PORT", "")
        ports: tuple[int, ...] = ()
        targets = sorted({p for d in domains if (p := _port(d.get("targetPort"))) is not None})
        if port_text.isdigit() and _port(int(port_text)):
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
        return Service(
            name=name,
            type=platforms.service_type(Platform.RAILWAY, kind, None),
            platform=Platform.RAILWAY,
            region=_text(node.get("region")),
            environment=env_name,
            project=project,
            host=host,
            ports=ports,
            public_url=f"https://{public}" if public else None,
            instances=_int(node.get("numReplicas"), 1),
            id=_text(node.get("serviceId")),
            start_command=_text(node.get("startCommand")),
            user=_literal(variables.get("PGUSER") or variables.get("REDISUSER")),
            password=_literal(variables.get("PGPASSWORD") or variables.get("REDISPASSWORD")),
            database=_literal(variables.get("PGDATABASE")),
        )


def _literal(value: str | None) -> str | None:
    return None if value is None or railway.has_reference(value) else value


def _railway_kind(image: str, variables: Mapping[str, str], public: bool, cron: bool) -> Kind:
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
            svc = replace(
                svc,
                user=got.get("PGUSER") or got.get("REDISUSER") or svc.user,
                password=got.get("PGPASSWORD") or got.get("REDISPASSWORD") or svc.password,
                database=got.get("PGDATABASE") or svc.database,
            )
        out.append(replace(svc, env=tuple(env)))
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _port(value: Any) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535:
        return value
    return None


def _edges(connection: Any) -> list[dict[str, Any]]:
    if not isinstance(connection, dict):
        return []
    out = []
    for edge in _as_list(connection.get("edges")):
        node = edge.get("node") if isinstance(edge, dict) else None
        if isinstance(node, dict):
            out.append(node)
    return out


def _variables(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in value.items()}


__all__ = [
    "RAILWAY_API",
    "RENDER_API",
    "ApiChoice",
    "fetch_railway",
    "fetch_render",
    "load",
    "parse_choice",
    "variables_query",
]
