"""Render's REST API (https://api.render.com/v1), read-only: one workspace as a `Workspace`.

What it reads, in order: the workspaces the key reaches (`/owners`), then the workspace's
services, Postgres databases, Key Value instances and environment groups (cursor pages of 100),
its projects and environments, each service's variables (`/services/{id}/env-vars`), the live
instances of every service with a discovery name (`/services/{id}/instances`, so autoscaled
services count what runs), and each datastore's connection info (its password).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from pnet import platforms
from pnet.errors import InputError, SourceError
from pnet.model import EnvironmentInfo, EnvVar, Kind, Platform, Service, Workspace
from pnet.platforms import render
from pnet.sources.api import shapes
from pnet.sources.api.http import ApiClient, Pace, Progress, RetryPolicy, Say, bounded, gather

RENDER_API = "https://api.render.com/v1"
PAGE_LIMIT = 100
MAX_PAGES = 50
# "All other GET: 100 / minute" was the documented budget (later 400 / minute); every answer
# carries Ratelimit-Remaining / Ratelimit-Reset, which the client follows once it has one.
PACE = Pace(concurrency=6, per_window=100, window=60.0)
WORKSPACE_VARIABLE = "RENDER_WORKSPACE"

TYPES = {
    "web_service": Kind.WEB,
    "private_service": Kind.PSERV,
    "background_worker": Kind.WORKER,
    "cron_job": Kind.CRON,
    "static_site": Kind.STATIC,
}


async def fetch_render(
    api_key: str,
    *,
    workspace: str | None = None,
    service_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = RENDER_API,
    say: Say | None = None,
    retry: RetryPolicy | None = None,
) -> Workspace:
    """Every service, Postgres database and Key Value instance of one Render workspace.

    `workspace` names the workspace (owner id or name) when the key reaches several;
    `service_id` (an instance's own `RENDER_SERVICE_ID`) picks the one it belongs to.
    """
    host = httpx.URL(base_url).host or "api.render.com"
    progress = Progress(say, "Render API")
    async with ApiClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {api_key}"},
        host=host,
        pace=PACE,
        retry=retry,
        progress=progress,
        transport=transport,
    ) as client:
        return await _Reader(client, progress).read(workspace, service_id)


class _Reader:
    def __init__(self, client: ApiClient, progress: Progress) -> None:
        self.client = client
        self.progress = progress
        self.host = client.host
        self.notes: list[str] = []

    async def _list(
        self, path: str, item_key: str, params: Mapping[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """All items of a cursor-paginated list: `[{cursor, <item_key>: {...}}, ...]`."""
        out: list[dict[str, Any]] = []
        cursor: str | None = None
        what = f"GET {path}"
        for _ in range(MAX_PAGES):
            query = {"limit": str(PAGE_LIMIT), **(params or {})}
            if cursor:
                query["cursor"] = cursor
            page = shapes.expect(
                await self.client.get_json(path, what, query), list, what, self.host
            )
            for entry in page:
                if not isinstance(entry, dict) or not isinstance(entry.get(item_key), dict):
                    raise SourceError(
                        f"{what}: unexpected answer (items without {item_key!r})", self.host
                    )
                out.append(entry[item_key])
            if len(page) < PAGE_LIMIT:
                return out
            last = page[-1].get("cursor")
            if not isinstance(last, str) or not last or last == cursor:
                return out
            cursor = last
        raise SourceError(f"{what}: more than {MAX_PAGES * PAGE_LIMIT} items", self.host)

    async def _get(self, path: str, what: str) -> Any:
        return await self.client.get_json(path, what)

    async def _counted(self, job: Any) -> Any:
        try:
            return await job()
        finally:
            self.progress.step()

    async def read(self, workspace: str | None, service_id: str | None) -> Workspace:
        self.progress.stage("workspaces")
        owners = await self._list("/owners", "owner")
        owner = await self._pick_owner(owners, workspace, service_id)
        owner_id = str(owner.get("id", ""))
        scope = {"ownerId": owner_id} if owner_id else {}
        self.progress.stage("services, datastores and groups")
        services, databases, stores, groups = await gather(
            self._list("/services", "service", {**scope, "includePreviews": "false"}),
            self._list("/postgres", "postgres", scope),
            self._list("/key-value", "keyValue", scope),
            self._list("/env-groups", "envGroup", scope),
        )
        services = [s for s in services if _owned(s.get("ownerId"), owner_id)]
        databases = [d for d in databases if _owned(_owner_of(d), owner_id)]
        stores = [k for k in stores if _owned(_owner_of(k), owner_id)]
        groups = [g for g in groups if _owned(g.get("ownerId"), owner_id)]
        places = await self._environments(scope)
        group_vars = await self._group_vars(groups)
        with_env = [s for s in services if s.get("type") != "static_site" and s.get("id")]
        self.progress.stage("variables of each service", len(with_env))
        env_lists = await bounded(
            [
                partial(
                    self._counted, partial(self._list, f"/services/{s['id']}/env-vars", "envVar")
                )
                for s in with_env
            ],
            len(with_env) or 1,
        )
        env_by_id = {str(s["id"]): e for s, e in zip(with_env, env_lists, strict=True)}
        model: list[Service] = []
        for raw in services:
            svc = self._service(raw, env_by_id.get(str(raw.get("id")), []))
            if svc is not None:
                linked = group_vars.get(str(raw.get("id")), [])
                own = {v.key for v in svc.env}
                extra = tuple(v for v in linked if v.key not in own)
                svc = replace(svc, env=extra + svc.env) if extra else svc
                model.append(_placed(svc, raw, places))
        model = await self._instances(model, services)
        secrets = await self._connection_info(databases, stores)
        for raw in databases:
            found = secrets.get(str(raw.get("id")), {})
            model.extend(_placed(s, raw, places) for s in self._postgres_and_replicas(raw, found))
        for raw in stores:
            found = secrets.get(str(raw.get("id")), {})
            model.append(_placed(self._keyvalue(raw, found), raw, places))
        self.progress.stage(f"{len(model)} services read")
        return Workspace(
            name=str(owner.get("name") or owner_id or "render"),
            platform=Platform.RENDER,
            services=tuple(model),
            environments={info.name: info for _, info in places.values()},
            source=f"Render API ({self.host})",
            notes=tuple(self.notes),
        )

    async def _pick_owner(
        self, owners: list[dict[str, Any]], wanted: str | None, service_id: str | None
    ) -> dict[str, Any]:
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
        if service_id:
            what = "GET /services/{id}"
            own = shapes.expect(
                await self._get(f"/services/{service_id}", what), dict, what, self.host
            )
            for owner in owners:
                if owner.get("id") == own.get("ownerId"):
                    return owner
        names = ", ".join(f"{o.get('name')} ({o.get('id')})" for o in owners)
        raise InputError(
            f"the key reaches {len(owners)} workspaces, which are separate private networks: "
            f"name one with {WORKSPACE_VARIABLE}=ID_OR_NAME ({names})"
        )

    async def _environments(
        self, scope: Mapping[str, str]
    ) -> dict[str, tuple[str, EnvironmentInfo]]:
        """Environment id -> (project name, `project/environment` with its isolation)."""
        try:
            projects = await self._list("/projects", "project", scope)
            envs = await bounded(
                [
                    partial(self._list, "/environments", "environment", {"projectId": str(p["id"])})
                    for p in projects
                    if p.get("id")
                ],
                4,
            )
        except InputError as exc:
            self.notes.append(f"projects and environments unknown ({exc.message})")
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

    async def _instances(self, model: list[Service], raw: list[dict[str, Any]]) -> list[Service]:
        """Each service with a discovery name counts its live instances, not its setting."""
        suspended = {str(s.get("id")) for s in raw if s.get("suspended") == "suspended"}
        wanted = [s for s in model if s.type.has_discovery and s.id and s.id not in suspended]
        if not wanted:
            return model
        self.progress.stage("instances of each service", len(wanted))
        what = "GET /services/{id}/instances"

        async def count(svc: Service) -> int | None:
            try:
                answer = await self._get(f"/services/{svc.id}/instances", what)
            except InputError as exc:
                self.notes.append(f"{svc.name}: instances unknown ({exc.message})")
                return None
            return len(
                [i for i in shapes.expect(answer, list, what, self.host) if isinstance(i, dict)]
            )

        counts = await bounded(
            [partial(self._counted, partial(count, s)) for s in wanted], len(wanted)
        )
        live = {s.name: n for s, n in zip(wanted, counts, strict=True) if n is not None}
        out = []
        for svc in model:
            n = live.get(svc.name)
            if n is not None and n != svc.instances:
                self.notes.append(
                    f"{svc.name} runs {n} instances (its setting says {svc.instances})"
                )
            out.append(replace(svc, instances=n) if n is not None else svc)
        return out

    async def _connection_info(
        self, databases: list[dict[str, Any]], stores: list[dict[str, Any]]
    ) -> dict[str, dict[str, str]]:
        """Datastore id -> the credentials its internal URL carries (password, user)."""
        jobs = [("postgres", d) for d in databases if d.get("id")] + [
            ("key-value", k) for k in stores if k.get("id")
        ]
        if not jobs:
            return {}
        self.progress.stage("connection info of each datastore", len(jobs))
        what = "GET /{kind}/{id}/connection-info"

        async def one(kind: str, raw: dict[str, Any]) -> dict[str, str]:
            try:
                info = await self._get(f"/{kind}/{raw['id']}/connection-info", what)
            except InputError as exc:
                self.notes.append(f"{raw.get('name')}: credentials unknown ({exc.message})")
                return {}
            info = shapes.expect(info, dict, what, self.host)
            found: dict[str, str] = {}
            url = shapes.text(info.get("internalConnectionString")) or ""
            try:
                parts = urlsplit(url)
                if parts.password:
                    found["password"] = unquote(parts.password)
                    found["internal"] = "auth"  # the internal URL asks for the password
                if parts.username:
                    found["user"] = unquote(parts.username)
            except ValueError:
                pass
            password = shapes.text(info.get("password"))
            if password:
                found["password"] = password
            return found

        got = await bounded(
            [partial(self._counted, partial(one, kind, raw)) for kind, raw in jobs], len(jobs)
        )
        return {str(raw["id"]): f for (_, raw), f in zip(jobs, got, strict=True)}

    def _service(self, raw: dict[str, Any], env_vars: list[dict[str, Any]]) -> Service | None:
        name = str(raw.get("name") or raw.get("slug") or raw.get("id") or "?")
        kind = TYPES.get(str(raw.get("type")))
        if kind is None:
            self.notes.append(f"service {name!r} has type {raw.get('type')!r}, which pnet skips")
            return None
        details = raw.get("serviceDetails")
        details = details if isinstance(details, dict) else {}
        plan = shapes.text(details.get("plan"))
        region = shapes.text(details.get("region")) if kind is not Kind.STATIC else None
        stype = platforms.service_type(Platform.RENDER, kind, plan)
        slug = shapes.text(raw.get("slug"))
        env = tuple(
            EnvVar(str(e.get("key")), None if e.get("value") is None else str(e.get("value")))
            for e in env_vars
            if e.get("key")
        )
        ports = tuple(
            dict.fromkeys(
                p
                for entry in shapes.as_list(details.get("openPorts"))
                if isinstance(entry, dict) and (p := shapes.port(entry.get("port"))) is not None
            )
        )
        known = True
        if not ports and stype.has_internal_address:
            # no open port detected yet: PORT when the service sets it, else what Render
            # assumes (its url's port, the default 10000), which is never the ground of an error
            port_var = next((e.value for e in env if e.key == "PORT"), None)
            url = shapes.text(details.get("url")) or ""
            tail = url.rpartition(":")[2]
            known = False
            if port_var and port_var.isdigit() and shapes.port(int(port_var)):
                ports, known = (int(port_var),), True
            elif kind is Kind.PSERV and tail.isdigit() and shapes.port(int(tail)):
                ports = (int(tail),)
            else:
                ports = (render.DEFAULT_PORT,)
        if not stype.has_internal_address:
            ports, known = (), True
        link = shapes.text(details.get("url"))
        public_url = link if link and link.startswith("http") and stype.has_public_url else None
        if raw.get("suspended") == "suspended":
            self.notes.append(f"service {name!r} is suspended: nothing answers at its address")
        allow = details.get("ipAllowList")
        autoscaling = details.get("autoscaling")
        instances = shapes.integer(details.get("numInstances"), 1)
        if isinstance(autoscaling, dict) and autoscaling.get("enabled"):
            instances = shapes.integer(autoscaling.get("min"), instances)
        return Service(
            name=name,
            type=stype,
            platform=Platform.RENDER,
            region=region,
            plan=plan,
            host=slug if stype.has_internal_address else None,
            ports=ports,
            ports_known=known,
            public_url=public_url,
            env=env,
            instances=instances,
            health_path=shapes.text(details.get("healthCheckPath")),
            ip_allow_list=shapes.cidrs(allow) if isinstance(allow, list) else None,
            id=shapes.text(raw.get("id")),
            runtime=shapes.text(details.get("runtime")) or shapes.text(details.get("env")),
            build_command=shapes.text(shapes.nested(details, "envSpecificDetails", "buildCommand"))
            or shapes.text(details.get("buildCommand")),
            start_command=shapes.text(shapes.nested(details, "envSpecificDetails", "startCommand")),
        )

    async def _group_vars(self, groups: list[dict[str, Any]]) -> dict[str, list[EnvVar]]:
        """Each linked service's variables from its environment groups (its own win)."""
        need = [g for g in groups if g.get("id") and not isinstance(g.get("envVars"), list)]
        what = "GET /env-groups/{id}"
        full = await bounded([partial(self._get, f"/env-groups/{g['id']}", what) for g in need], 4)
        detail = {
            str(g["id"]): shapes.expect(f, dict, what, self.host)
            for g, f in zip(need, full, strict=True)
        }
        out: dict[str, list[EnvVar]] = {}
        for group in groups:
            body = detail.get(str(group.get("id")), group)
            name = str(body.get("name") or group.get("name") or group.get("id"))
            variables = [
                EnvVar(
                    str(e["key"]), shapes.text(e.get("value")) or "", "fromGroup", ref_service=name
                )
                for e in shapes.as_list(body.get("envVars"))
                if isinstance(e, dict) and e.get("key")
            ]
            links = shapes.as_list(body.get("serviceLinks")) or shapes.as_list(
                group.get("serviceLinks")
            )
            for link in links:
                if isinstance(link, dict) and link.get("id"):
                    bucket = out.setdefault(str(link["id"]), [])
                    seen = {v.key for v in bucket}
                    bucket.extend(v for v in variables if v.key not in seen)
        return out

    def _postgres_and_replicas(
        self, raw: dict[str, Any], found: Mapping[str, str]
    ) -> list[Service]:
        primary = self._postgres(raw, found)
        out = [primary]
        for rep in shapes.as_list(raw.get("readReplicas")):
            if isinstance(rep, dict) and rep.get("id"):
                rid = str(rep["id"])
                out.append(replace(primary, name=str(rep.get("name") or rid), host=rid, id=rid))
        return out

    def _postgres(self, raw: dict[str, Any], found: Mapping[str, str]) -> Service:
        plan = shapes.text(raw.get("plan"))
        allow = raw.get("ipAllowList")
        return Service(
            name=str(raw.get("name") or raw.get("id")),
            type=platforms.service_type(Platform.RENDER, Kind.POSTGRES, plan),
            platform=Platform.RENDER,
            region=shapes.text(raw.get("region")),
            plan=plan,
            host=shapes.text(raw.get("id")),
            ports=(render.POSTGRES_PORT,),
            ip_allow_list=shapes.cidrs(allow) if isinstance(allow, list) else None,
            id=shapes.text(raw.get("id")),
            database=shapes.text(raw.get("databaseName")),
            user=shapes.text(raw.get("databaseUser")),
            password=found.get("password"),
        )

    def _keyvalue(self, raw: dict[str, Any], found: Mapping[str, str]) -> Service:
        plan = shapes.text(raw.get("plan"))
        allow = raw.get("ipAllowList")
        user = found.get("user")
        return Service(
            name=str(raw.get("name") or raw.get("id")),
            type=platforms.service_type(Platform.RENDER, Kind.KEYVALUE, plan),
            platform=Platform.RENDER,
            region=shapes.text(raw.get("region")),
            plan=plan,
            host=shapes.text(raw.get("id")),
            ports=(render.KEYVALUE_PORT,),
            ip_allow_list=shapes.cidrs(allow) if isinstance(allow, list) else None,
            id=shapes.text(raw.get("id")),
            user=user if user and user != "default" and found.get("password") else None,
            password=found.get("password"),
            internal_auth=bool(found.get("internal")),
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


__all__ = ["PACE", "RENDER_API", "WORKSPACE_VARIABLE", "fetch_render"]
