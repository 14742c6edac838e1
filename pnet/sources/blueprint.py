"""Render Blueprints (`render.yaml`): the workspace a Blueprint describes, as Render would build it.

The file is read the way Render reads it: the whole spec's keys are accepted (YAML or JSON
syntax, `projects[].environments[]`, `ungrouped`, `previews`, the legacy `env:` and
`type: redis`), and what Render would refuse is one `FILE:LINE: message` error.

What a Blueprint cannot know stays unknown rather than guessed: a service's slug gets a
4-character hash at creation (`host` is the name's slug form, `host_known=False`), a
database's `dpg-...` id, generated secrets and `sync: false` values. Such env vars have
`value=None`, name what they point at (`ref_service`, `ref_type`, `ref_property`/`ref_key`)
and say why in `note`. A reference to a resource the file does not define loads with
`resolved=False`: Render accepts it when the resource already exists in the workspace.
A `fromGroup` naming an undefined group is kept as the marker variable `fromGroup:NAME`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from pnet.argcheck import digits
from pnet.model import EnvironmentInfo, EnvVar, Kind, Platform, Service, Workspace
from pnet.platforms import render
from pnet.sources.schema import Reader, type_name
from pnet.yamlload import Node, load_file, load_text

ROOT_KEYS = (
    "services",
    "databases",
    "envVarGroups",
    "projects",
    "ungrouped",
    "previews",
    "previewsEnabled",
    "previewsExpireAfterDays",
    "version",
)
GROUPING_KEYS = ("services", "databases", "envVarGroups")
PROJECT_KEYS = ("name", "environments")
ENVIRONMENT_KEYS = ("name", "services", "databases", "envVarGroups", "networking", "permissions")
SERVICE_KEYS = (
    "type",
    "name",
    "runtime",
    "env",
    "plan",
    "previewPlan",
    "previews",
    "pullRequestPreviewsEnabled",
    "region",
    "repo",
    "branch",
    "rootDir",
    "autoDeploy",
    "autoDeployTrigger",
    "buildCommand",
    "preDeployCommand",
    "startCommand",
    "dockerCommand",
    "dockerfilePath",
    "dockerContext",
    "registryCredential",
    "image",
    "numInstances",
    "scaling",
    "healthCheckPath",
    "domains",
    "disk",
    "envVars",
    "ipAllowList",
    "maxShutdownDelaySeconds",
    "buildFilter",
    "staticPublishPath",
    "headers",
    "routes",
    "schedule",
    "maxmemoryPolicy",
    "persistenceMode",
    "renderSubdomainPolicy",
    "buildPlan",
    "initialDeployHook",
    "secretFiles",
)
DATABASE_KEYS = (
    "name",
    "plan",
    "previewPlan",
    "previews",
    "region",
    "ipAllowList",
    "postgresMajorVersion",
    "databaseName",
    "user",
    "readReplicas",
    "highAvailability",
    "diskSizeGB",
    "previewDiskSizeGB",
    "storageAutoscalingEnabled",
    "connectionPool",
)
ENV_VAR_KEYS = (
    "key",
    "value",
    "generateValue",
    "sync",
    "fromService",
    "fromDatabase",
    "fromGroup",
    "previewValue",
)
GROUP_KEYS = ("name", "envVars")
FROM_SERVICE_KEYS = ("name", "type", "property", "envVarKey")
FROM_DATABASE_KEYS = ("name", "property")
ALLOW_KEYS = ("source", "description")

SERVICE_TYPES = ("web", "pserv", "worker", "cron", "keyvalue", "redis")
RUNTIMES = ("node", "python", "elixir", "go", "ruby", "rust", "docker", "image", "static")
DOCKER_ONLY_LANGUAGES = frozenset(
    {"java", "kotlin", "scala", "php", "dotnet", ".net", "csharp", "deno", "bun", "swift", "dart"}
)
SERVICE_PLANS = ("free", "starter", "standard", "pro", "pro plus", "pro max", "pro ultra")
KEYVALUE_PLANS = ("free", "starter", "standard", "pro", "pro plus")
DATABASE_PLAN = re.compile(
    r"^(free|basic-(256mb|1gb|4gb)|pro-\d+gb|accelerated-\d+gb|starter|standard|pro|pro plus)$"
)
DEFAULT_DATABASE_PLAN = "basic-256mb"
SERVICE_PROPERTIES = ("host", "port", "hostport", "connectionString")
DATABASE_PROPERTIES = (
    "connectionString",
    "host",
    "port",
    "user",
    "password",
    "database",
    "connectionPoolString",
)
PREVIEW_GENERATION = ("off", "manual", "automatic", "none")
ISOLATION = ("enabled", "disabled")
AUTO_DEPLOY_TRIGGERS = ("commit", "checksPass", "off")
CROSS_SERVICE_BUILTINS = frozenset(
    {"RENDER_DISCOVERY_SERVICE", "RENDER_EXTERNAL_HOSTNAME", "RENDER_EXTERNAL_URL"}
)
_KIND = {
    "web": Kind.WEB,
    "pserv": Kind.PSERV,
    "worker": Kind.WORKER,
    "cron": Kind.CRON,
    "keyvalue": Kind.KEYVALUE,
}


def load(path: str | Path) -> Workspace:
    """Read a `render.yaml` file."""
    return parse(load_file(path), str(path))


def loads(text: str, file: str = "render.yaml") -> Workspace:
    """Read Blueprint text; `file` names it in error messages."""
    return parse(load_text(text, file), file)


def slug_base(name: str) -> str:
    """The part of a slug Render derives from a name: `My.API` -> `my-api`."""
    base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return base or name.lower()


@dataclass
class _Raw:
    """One resource as the file gives it, before references are resolved."""

    node: Node
    name: str
    kind: Kind
    plan: str | None
    region: str | None
    project: str | None
    environment: str | None
    bp_type: str
    runtime: str | None = None
    vars: list[tuple[Node, int]] = field(default_factory=list)


@dataclass
class _Group:
    name: str
    line: int
    vars: list[EnvVar]


@dataclass
class _Scope:
    project: str | None = None
    environment: str | None = None


class _Parser:
    def __init__(self, file: str) -> None:
        self.file = file
        self.r = Reader(file, source_text=True)
        self.services: list[_Raw] = []
        self.databases: list[_Raw] = []
        self.groups: dict[str, _Group] = {}
        self.environments: dict[str, EnvironmentInfo] = {}
        self.notes: list[str] = []
        self.service_names: dict[str, int] = {}
        self.database_names: dict[str, int] = {}

    # ---- structure -----------------------------------------------------------------------

    def parse(self, doc: Any) -> Workspace:
        r = self.r
        if doc is None:
            r.fail("the Blueprint is empty: expected `services:` or `databases:`")
        top = r.mapping(doc, "a Render Blueprint", 1)
        r.check_keys(top, ROOT_KEYS, "the Blueprint")
        self._previews(top)
        self._grouping(top, _Scope(), "the Blueprint")
        if top.get("ungrouped") is not None:
            ungrouped = r.mapping(top["ungrouped"], "`ungrouped`", top.line_of("ungrouped"))
            r.check_keys(ungrouped, GROUPING_KEYS, "`ungrouped`")
            self._grouping(ungrouped, _Scope(), "`ungrouped`")
        projects = self._projects(top)
        services = [self._build_service(raw) for raw in self.services]
        databases: list[Service] = []
        for raw in self.databases:
            databases.extend(self._build_database(raw))
        services = _unique_names(services, databases)
        name = projects[0] if len(projects) == 1 else _folder_name(self.file)
        return Workspace(
            name=name,
            platform=Platform.RENDER,
            services=tuple(services),
            project=projects[0] if len(projects) == 1 else None,
            environments=self.environments,
            source=self.file,
            notes=tuple(self.notes),
        )

    def _previews(self, top: Node) -> None:
        r = self.r
        if top.get("previews") is not None:
            previews = r.mapping(top["previews"], "`previews`", top.line_of("previews"))
            r.check_keys(previews, ("generation", "expireAfterDays"), "`previews`")
            r.choice(previews, "generation", "`previews`", PREVIEW_GENERATION)
            r.integer(previews, "expireAfterDays", "`previews`", low=1)
        r.boolean(top, "previewsEnabled", "the Blueprint")
        r.integer(top, "previewsExpireAfterDays", "the Blueprint", low=1)

    def _projects(self, top: Node) -> list[str]:
        r = self.r
        if top.get("projects") is None:
            return []
        seq = r.sequence(top["projects"], "`projects`", top.line_of("projects"))
        names: list[str] = []
        for i, item in enumerate(seq):
            project = r.mapping(item, "each project", seq.line_of(i))
            r.check_keys(project, PROJECT_KEYS, "a project")
            pname = self._name(project, "a project")
            names.append(pname)
            what = f"project {pname!r}"
            envs = r.sequence(
                r.require(project, "environments", what),
                f"`environments` of {what}",
                project.line_of("environments"),
            )
            if not envs:
                r.fail(f"{what} needs at least one environment", envs)
            for j, env_item in enumerate(envs):
                env = r.mapping(env_item, f"each environment of {what}", envs.line_of(j))
                r.check_keys(env, ENVIRONMENT_KEYS, f"an environment of {what}")
                ename = self._name(env, f"an environment of {what}")
                ewhat = f"environment {ename!r} of {what}"
                isolated = False
                if env.get("networking") is not None:
                    net = r.mapping(env["networking"], f"`networking` of {ewhat}", env)
                    r.check_keys(net, ("isolation",), f"`networking` of {ewhat}")
                    isolated = r.choice(net, "isolation", ewhat, ISOLATION) == "enabled"
                if env.get("permissions") is not None:
                    perm = r.mapping(env["permissions"], f"`permissions` of {ewhat}", env)
                    r.check_keys(perm, ("protection",), f"`permissions` of {ewhat}")
                    r.choice(perm, "protection", ewhat, ISOLATION)
                key = f"{pname}/{ename}"
                if key in self.environments:
                    r.fail(f"{what} defines environment {ename!r} twice", env, "name")
                self.environments[key] = EnvironmentInfo(key, isolated=isolated)
                self._grouping(env, _Scope(pname, key), ewhat)
        return names

    def _grouping(self, node: Node, scope: _Scope, where: str) -> None:
        r = self.r
        for key in ("envVarGroups", "services", "databases"):
            if node.get(key) is None:
                continue
            seq = r.sequence(node[key], f"`{key}` of {where}", node.line_of(key))
            for i, item in enumerate(seq):
                entry = r.mapping(item, f"each entry of `{key}`", seq.line_of(i))
                if key == "services":
                    self.services.append(self._service(entry, scope))
                elif key == "databases":
                    self.databases.append(self._database(entry, scope))
                else:
                    self._group(entry)

    def _name(self, node: Node, what: str) -> str:
        self.r.require(node, "name", what)
        name = (self.r.string(node, "name", what) or "").strip()
        if not name:
            self.r.fail(f"'name' of {what} is empty", node, "name")
        return name

    # ---- services ------------------------------------------------------------------------

    def _service(self, node: Node, scope: _Scope) -> _Raw:
        r = self.r
        name = self._name(node, "a service")
        what = f"service {name!r}"
        if "type" not in node or node["type"] is None:
            r.fail(f"{what} needs 'type' (one of: {', '.join(SERVICE_TYPES)})", node)
        bp_type = r.string(node, "type", what) or ""
        if bp_type in ("postgres", "postgresql", "database"):
            r.fail(
                f"'type' of {what} is {bp_type!r}: Render Postgres databases go in the "
                "`databases:` list, not under `services:`",
                node,
                "type",
            )
        if bp_type == "static":
            r.fail(
                f"'type' of {what} is 'static': a static site is `type: web` with "
                "`runtime: static`",
                node,
                "type",
            )
        r.choice(node, "type", what, SERVICE_TYPES)
        r.check_keys(
            node, SERVICE_KEYS, what, "a Blueprint service (render.com/docs/blueprint-spec)"
        )
        if bp_type == "redis":
            bp_type = "keyvalue"
        kind = _KIND[bp_type]
        runtime = self._runtime(node, what, kind)
        if kind is Kind.WEB and runtime == "static":
            kind = Kind.STATIC
        elif runtime == "static":
            r.fail(
                f"{what}: `runtime: static` is only for `type: web` (a static site)",
                node,
                "runtime" if "runtime" in node else "env",
            )
        if name in self.service_names:
            r.fail(
                f"duplicate service name {name!r} (first on line {self.service_names[name]}): "
                "Render needs a unique name for each service",
                node,
                "name",
            )
        self.service_names[name] = node.line
        plan = self._service_plan(node, what, kind)
        region: str | None = self._region(node, what)
        if kind is Kind.STATIC:
            region = None
        if kind is Kind.CRON and node.get("schedule") is None:
            r.fail(f"{what} is a cron job and needs 'schedule' (a cron expression)", node)
        self._shapes(node, what)
        if kind is Kind.KEYVALUE and "ipAllowList" not in node:
            r.fail(
                f"{what} is a Key Value instance and needs 'ipAllowList' "
                "(`[]` allows internal connections only)",
                node,
            )
        raw = _Raw(
            node, name, kind, plan, region, scope.project, scope.environment, bp_type, runtime
        )
        raw.vars = self._env_vars(node, what, allow_refs=True)
        return raw

    def _runtime(self, node: Node, what: str, kind: Kind) -> str | None:
        r = self.r
        for key in ("runtime", "env"):
            given = r.string(node, key, what)
            if given is not None and given.strip().lower() not in RUNTIMES:
                hint = ""
                if given.strip().lower() in DOCKER_ONLY_LANGUAGES:
                    hint = (
                        f"; Render has no native {given} runtime: build it with `runtime: docker`"
                    )
                r.fail(
                    f"{key!r} of {what} is {given!r}, expected one of: {', '.join(RUNTIMES)}{hint}",
                    node,
                    key,
                )
        runtime = r.choice(node, "runtime", what, RUNTIMES)
        legacy = r.choice(node, "env", what, RUNTIMES)
        if runtime and legacy and runtime != legacy:
            r.fail(
                f"{what} sets `runtime: {runtime}` and the older `env: {legacy}`: keep `runtime`",
                node,
                "env",
            )
        runtime = runtime or legacy
        if runtime is None and kind is not Kind.KEYVALUE:
            r.fail(f"{what} needs 'runtime' (one of: {', '.join(RUNTIMES)})", node)
        return runtime

    def _service_plan(self, node: Node, what: str, kind: Kind) -> str | None:
        r = self.r
        given = r.string(node, "plan", what)
        if kind is Kind.STATIC:
            return None
        if given is None:
            return render.DEFAULT_PLAN
        plan = given.strip().lower().replace("_", " ").replace("-", " ")
        choices = KEYVALUE_PLANS if kind is Kind.KEYVALUE else SERVICE_PLANS
        if plan not in choices:
            r.fail(
                f"'plan' of {what} is {given!r}, expected one of: {', '.join(choices)}",
                node,
                "plan",
            )
        if plan == "free" and kind in (Kind.PSERV, Kind.WORKER, Kind.CRON):
            label = {
                Kind.PSERV: "private services",
                Kind.WORKER: "background workers",
                Kind.CRON: "cron jobs",
            }[kind]
            r.fail(
                f"{what}: the free plan is not available for {label} (use starter or above)",
                node,
                "plan",
            )
        return plan

    def _region(self, node: Node, what: str) -> str:
        return self.r.choice(node, "region", what, render.REGIONS) or render.DEFAULT_REGION

    def _shapes(self, node: Node, what: str) -> None:
        """Type-check the fields pnet does not model, so a wrong shape fails as Render would."""
        r = self.r
        for key in (
            "repo",
            "branch",
            "rootDir",
            "buildCommand",
            "preDeployCommand",
            "startCommand",
            "dockerCommand",
            "dockerfilePath",
            "dockerContext",
            "healthCheckPath",
            "staticPublishPath",
            "schedule",
            "maxmemoryPolicy",
            "persistenceMode",
            "previewPlan",
            "renderSubdomainPolicy",
            "buildPlan",
            "initialDeployHook",
        ):
            r.string(node, key, what)
        r.integer(node, "numInstances", what, low=0, high=100)
        r.integer(node, "maxShutdownDelaySeconds", what, low=1, high=300)
        r.boolean(node, "pullRequestPreviewsEnabled", what)
        if "autoDeploy" in node:
            r.boolean(node, "autoDeploy", what)
        r.choice(node, "autoDeployTrigger", what, AUTO_DEPLOY_TRIGGERS)
        r.strings(node, "domains", what)
        for key in ("scaling", "disk", "image", "registryCredential", "buildFilter", "previews"):
            if node.get(key) is not None:
                r.mapping(node[key], f"{key!r} of {what}", node.line_of(key))
        for key in ("headers", "routes", "secretFiles"):
            if node.get(key) is not None:
                r.sequence(node[key], f"{key!r} of {what}", node.line_of(key))
        if node.get("scaling") is not None:
            scaling = node["scaling"]
            swhat = f"'scaling' of {what}"
            r.check_keys(
                scaling,
                ("minInstances", "maxInstances", "targetCPUPercent", "targetMemoryPercent"),
                swhat,
            )
            low = r.integer(scaling, "minInstances", swhat, low=1, high=100)
            high = r.integer(scaling, "maxInstances", swhat, low=1, high=100)
            if low is None or high is None:
                r.fail(f"{swhat} needs 'minInstances' and 'maxInstances'", scaling)
            if low > high:
                r.fail(
                    f"{swhat}: minInstances ({low}) is above maxInstances ({high})",
                    scaling,
                    "minInstances",
                )
            r.integer(scaling, "targetCPUPercent", swhat, low=1, high=90)
            r.integer(scaling, "targetMemoryPercent", swhat, low=1, high=90)
        if node.get("disk") is not None:
            scaled = (r.integer(node, "numInstances", what) or 1) > 1 or node.get("scaling")
            if scaled:
                r.fail(
                    f"{what} has a persistent disk and cannot scale: remove `numInstances` "
                    "above 1 or `scaling`, or the disk",
                    node,
                    "scaling" if node.get("scaling") is not None else "numInstances",
                )
            disk = node["disk"]
            dwhat = f"'disk' of {what}"
            r.check_keys(disk, ("name", "mountPath", "sizeGB"), dwhat)
            r.string(disk, "name", dwhat)
            r.string(disk, "mountPath", dwhat)
            r.integer(disk, "sizeGB", dwhat, low=1)

    def _allow_list(self, node: Node, what: str) -> tuple[str, ...] | None:
        r = self.r
        if "ipAllowList" not in node:
            return None
        if node["ipAllowList"] is None:
            return ()
        seq = r.sequence(
            node["ipAllowList"], f"'ipAllowList' of {what}", node.line_of("ipAllowList")
        )
        out: list[str] = []
        for i, item in enumerate(seq):
            entry = r.mapping(
                item,
                f"each 'ipAllowList' entry of {what} (`source:` and `description:`)",
                seq.line_of(i),
            )
            r.check_keys(entry, ALLOW_KEYS, f"an 'ipAllowList' entry of {what}")
            source = r.string(entry, "source", f"an 'ipAllowList' entry of {what}")
            if not source:
                r.fail(f"an 'ipAllowList' entry of {what} needs 'source' (a CIDR block)", entry)
            r.string(entry, "description", f"an 'ipAllowList' entry of {what}")
            try:
                ipaddress.ip_network(source.strip(), strict=False)
            except ValueError:
                r.fail(
                    f"'source' of an 'ipAllowList' entry of {what} is {source!r}, "
                    "expected an IP address or CIDR block such as 203.0.113.0/24",
                    entry,
                    "source",
                )
            out.append(source.strip())
        return tuple(out)

    # ---- databases -----------------------------------------------------------------------

    def _database(self, node: Node, scope: _Scope) -> _Raw:
        r = self.r
        name = self._name(node, "a database")
        what = f"database {name!r}"
        r.check_keys(
            node, DATABASE_KEYS, what, "a Blueprint database (render.com/docs/blueprint-spec)"
        )
        if name in self.database_names:
            r.fail(
                f"duplicate database name {name!r} (first on line {self.database_names[name]})",
                node,
                "name",
            )
        self.database_names[name] = node.line
        given = r.string(node, "plan", what)
        plan = DEFAULT_DATABASE_PLAN
        if given is not None:
            plan = given.strip().lower().replace("_", " ")
            if not DATABASE_PLAN.match(plan):
                r.fail(
                    f"'plan' of {what} is {given!r}, expected a Render Postgres instance "
                    "type such as free, basic-256mb, basic-1gb, pro-4gb or accelerated-16gb",
                    node,
                    "plan",
                )
        region = self._region(node, what)
        for key in ("postgresMajorVersion", "databaseName", "user", "previewPlan"):
            r.string(node, key, what)
        r.integer(node, "diskSizeGB", what, low=1)
        r.integer(node, "previewDiskSizeGB", what, low=1)
        r.boolean(node, "storageAutoscalingEnabled", what)
        if node.get("previews") is not None:
            r.mapping(node["previews"], f"'previews' of {what}", node.line_of("previews"))
        if node.get("highAvailability") is not None:
            ha = r.mapping(
                node["highAvailability"],
                f"'highAvailability' of {what}",
                node.line_of("highAvailability"),
            )
            r.check_keys(ha, ("enabled",), f"'highAvailability' of {what}")
            r.boolean(ha, "enabled", what)
        if node.get("readReplicas") is not None:
            seq = r.sequence(
                node["readReplicas"], f"'readReplicas' of {what}", node.line_of("readReplicas")
            )
            if len(seq) > 5:
                r.fail(f"{what} has {len(seq)} read replicas; Render allows up to five", seq)
            for i, item in enumerate(seq):
                rep = r.mapping(item, f"each read replica of {what}", seq.line_of(i))
                r.check_keys(rep, ("name",), f"a read replica of {what}")
                rname = self._name(rep, f"a read replica of {what}")
                rep["name"] = rname
                if rname in self.database_names:
                    r.fail(
                        f"duplicate database name {rname!r} (first on line "
                        f"{self.database_names[rname]})",
                        rep,
                        "name",
                    )
                self.database_names[rname] = rep.line
        return _Raw(
            node, name, Kind.POSTGRES, plan, region, scope.project, scope.environment, "postgres"
        )

    def _build_database(self, raw: _Raw) -> list[Service]:
        node, what = raw.node, f"database {raw.name!r}"
        allow = self._allow_list(node, what)
        if allow is None:
            allow = ("0.0.0.0/0",)
            self.notes.append(
                f"database {raw.name!r} sets no ipAllowList: Render creates it open to every "
                "IP address (credentials still required)"
            )
        stype = render.service_type(Kind.POSTGRES, raw.plan)
        base = Service(
            name=raw.name,
            type=stype,
            platform=Platform.RENDER,
            region=raw.region,
            environment=raw.environment,
            project=raw.project,
            plan=raw.plan,
            host=slug_base(raw.name),
            host_known=False,
            ports=(render.POSTGRES_PORT,),
            ip_allow_list=allow,
            database=self.r.string(node, "databaseName", what),
            user=self.r.string(node, "user", what),
            line=node.line,
        )
        out = [base]
        for rep in node.get("readReplicas") or []:
            rname = str(rep["name"]).strip()
            out.append(replace(base, name=rname, host=slug_base(rname), line=rep.line))
        return out

    # ---- env vars ------------------------------------------------------------------------

    def _group(self, node: Node) -> None:
        r = self.r
        name = self._name(node, "an environment group")
        what = f"environment group {name!r}"
        r.check_keys(node, GROUP_KEYS, what)
        if name in self.groups:
            r.fail(
                f"duplicate environment group {name!r} (first on line {self.groups[name].line})",
                node,
                "name",
            )
        out: list[EnvVar] = []
        for item, _line in self._env_vars(node, what, allow_refs=False):
            key = str(item["key"])
            var = self._plain_var(item, what)
            if var is None:
                self.notes.append(
                    f"{what}: {key} uses `sync: false`, which Render ignores in "
                    "an environment group"
                )
                continue
            out.append(replace(var, origin="fromGroup", ref_service=name))
        self.groups[name] = _Group(name, node.line, out)

    def _env_vars(self, node: Node, what: str, *, allow_refs: bool) -> list[tuple[Node, int]]:
        r = self.r
        if node.get("envVars") is None:
            return []
        seq = r.sequence(node["envVars"], f"'envVars' of {what}", node.line_of("envVars"))
        out: list[tuple[Node, int]] = []
        seen: dict[str, int] = {}
        for i, item in enumerate(seq):
            var = r.mapping(item, f"each entry of 'envVars' of {what}", seq.line_of(i))
            r.check_keys(var, ENV_VAR_KEYS, f"an env var of {what}")
            sources = [
                k
                for k in (
                    "value",
                    "generateValue",
                    "sync",
                    "fromService",
                    "fromDatabase",
                    "fromGroup",
                )
                if k in var
            ]
            if "fromGroup" in var:
                if not allow_refs:
                    r.fail(
                        f"{what}: an environment group cannot include another group (`fromGroup`)",
                        var,
                        "fromGroup",
                    )
                if len(var) > 1:
                    other = next(k for k in var if k != "fromGroup")
                    r.fail(
                        f"{what}: `fromGroup` stands alone in its entry, without {other!r}",
                        var,
                        other,
                    )
                group = r.string(var, "fromGroup", what)
                if not group:
                    r.fail(
                        f"{what}: `fromGroup` needs the name of an environment group",
                        var,
                        "fromGroup",
                    )
                var["fromGroup"] = group
                out.append((var, var.line))
                continue
            key = r.string(var, "key", f"an env var of {what}")
            if not key:
                r.fail(f"an env var of {what} needs 'key'", var)
            var["key"] = key
            vwhat = f"env var {key!r} of {what}"
            if not sources:
                r.fail(
                    f"{vwhat} needs one of: value, generateValue, sync: false, fromService, "
                    "fromDatabase",
                    var,
                    "key",
                )
            if len(sources) > 1:
                r.fail(
                    f"{vwhat} sets both {sources[0]!r} and {sources[1]!r}: give one",
                    var,
                    sources[1],
                )
            source = sources[0]
            if not allow_refs and source in ("fromService", "fromDatabase"):
                r.fail(
                    f"{vwhat}: an environment group cannot reference a service or database "
                    f"(`{source}`)",
                    var,
                    source,
                )
            if source == "value" and isinstance(var["value"], dict | list):
                r.fail(
                    f"'value' of {vwhat} must be a string, not {type_name(var['value'])}",
                    var,
                    "value",
                )
            if source == "generateValue" and not r.boolean(var, "generateValue", vwhat):
                r.fail(f"{vwhat}: `generateValue` only takes `true`", var, "generateValue")
            if source == "sync" and r.boolean(var, "sync", vwhat, default=True):
                r.fail(
                    f"{vwhat}: `sync` only takes `false` (prompt for the value once)", var, "sync"
                )
            if source == "fromService":
                self._check_from_service(var, vwhat)
            if source == "fromDatabase":
                self._check_from_database(var, vwhat)
            if "previewValue" in var and isinstance(var["previewValue"], dict | list):
                r.fail(f"'previewValue' of {vwhat} must be a string", var, "previewValue")
            if key in seen:
                r.fail(f"{what} sets env var {key!r} twice (first on line {seen[key]})", var, "key")
            seen[key] = var.line
            out.append((var, var.line))
        return out

    def _check_from_service(self, var: Node, vwhat: str) -> None:
        r = self.r
        ref = r.mapping(var["fromService"], f"'fromService' of {vwhat}", var.line_of("fromService"))
        rwhat = f"'fromService' of {vwhat}"
        r.check_keys(ref, FROM_SERVICE_KEYS, rwhat)
        name = r.string(ref, "name", rwhat)
        if not name:
            r.fail(f"{rwhat} needs 'name'", ref)
        ref["name"] = name
        rtype = r.string(ref, "type", rwhat)
        if rtype is None:
            r.fail(
                f"{rwhat} needs 'type' (the referenced service's type: {', '.join(SERVICE_TYPES)})",
                ref,
            )
        if rtype in ("postgres", "postgresql", "database"):
            r.fail(
                f"{rwhat}: reference a Postgres database with `fromDatabase`, not `fromService`",
                ref,
                "type",
            )
        r.choice(ref, "type", rwhat, SERVICE_TYPES)
        has_prop, has_key = "property" in ref, "envVarKey" in ref
        if has_prop == has_key:
            r.fail(
                f"{rwhat} needs exactly one of 'property' ({', '.join(SERVICE_PROPERTIES)}) "
                "or 'envVarKey'",
                ref,
            )
        if has_prop:
            r.choice(ref, "property", rwhat, SERVICE_PROPERTIES)
        else:
            r.string(ref, "envVarKey", rwhat)

    def _check_from_database(self, var: Node, vwhat: str) -> None:
        r = self.r
        ref = r.mapping(
            var["fromDatabase"], f"'fromDatabase' of {vwhat}", var.line_of("fromDatabase")
        )
        rwhat = f"'fromDatabase' of {vwhat}"
        r.check_keys(ref, FROM_DATABASE_KEYS, rwhat)
        name = r.string(ref, "name", rwhat)
        if not name:
            r.fail(f"{rwhat} needs 'name'", ref)
        ref["name"] = name
        if "property" not in ref:
            r.fail(f"{rwhat} needs 'property' ({', '.join(DATABASE_PROPERTIES)})", ref)
        r.choice(ref, "property", rwhat, DATABASE_PROPERTIES)

    def _plain_var(self, var: Node, what: str) -> EnvVar | None:
        key = str(var["key"])
        line = var.line
        if "value" in var:
            return EnvVar(key, _text(var, "value"), "value", line=line)
        if "generateValue" in var:
            return EnvVar(
                key,
                None,
                "generateValue",
                note="Render generates a random "
                "base64-encoded 256-bit value when the variable is created",
                line=line,
            )
        return None

    # ---- building services ---------------------------------------------------------------

    def _build_service(self, raw: _Raw) -> Service:
        node, what = raw.node, f"service {raw.name!r}"
        r = self.r
        stype = render.service_type(raw.kind, raw.plan)
        own = self._own_vars(raw)
        env = self._service_env(raw, own)
        ports: tuple[int, ...] = ()
        if raw.kind in (Kind.WEB, Kind.PSERV):
            ports = (self._port_of(raw),)
        elif raw.kind is Kind.KEYVALUE:
            ports = (render.KEYVALUE_PORT,)
        host = slug_base(raw.name) if stype.has_internal_address else None
        instances = r.integer(node, "numInstances", what, 1, low=0, high=100)
        if node.get("scaling") is not None:
            instances = r.integer(node["scaling"], "minInstances", what, 1)
        domains = r.strings(node, "domains", what) or ()
        public_url = f"https://{domains[0]}" if domains and stype.has_public_url else None
        allow = self._allow_list(node, what)
        return Service(
            name=raw.name,
            type=stype,
            platform=Platform.RENDER,
            region=raw.region,
            environment=raw.environment,
            project=raw.project,
            plan=raw.plan,
            host=host,
            host_known=False,
            ports=ports,
            public_url=public_url,
            env=env,
            instances=instances if instances is not None else 1,
            health_path=r.string(node, "healthCheckPath", what) if raw.kind is Kind.WEB else None,
            ip_allow_list=allow,
            runtime=raw.runtime,
            build_command=r.string(node, "buildCommand", what),
            start_command=r.string(node, "startCommand", what)
            or r.string(node, "dockerCommand", what),
            line=node.line,
        )

    def _own_vars(self, raw: _Raw) -> dict[str, Node]:
        return {str(v["key"]): v for v, _ in raw.vars if "key" in v}

    def _port_of(self, raw: _Raw) -> int:
        """The port a web or private service serves: its own `PORT` value, else 10000."""
        for var, _ in raw.vars:
            if var.get("key") == "PORT" and "value" in var:
                text = _text(var, "value").strip()
                if digits(text) and 1 <= int(text) <= 65535:
                    return int(text)
                note = (
                    f"{self.file}:{var.line}: PORT of service {raw.name!r} is {text!r}, not a "
                    f"port: Render's default {render.DEFAULT_PORT} is assumed"
                )
                if note not in self.notes:
                    self.notes.append(note)
                return render.DEFAULT_PORT
        group_port = self._group_port(raw)
        return group_port if group_port is not None else render.DEFAULT_PORT

    def _group_port(self, raw: _Raw) -> int | None:
        for var, _ in raw.vars:
            if "fromGroup" in var:
                group = self.groups.get(str(var["fromGroup"]))
                for gv in group.vars if group else []:
                    if gv.key == "PORT" and gv.value and digits(gv.value):
                        return int(gv.value)
        return None

    def _service_env(self, raw: _Raw, own: dict[str, Node]) -> tuple[EnvVar, ...]:
        what = f"service {raw.name!r}"
        out: dict[str, EnvVar] = {}
        group_vars: dict[str, EnvVar] = {}
        for var, line in raw.vars:
            if "fromGroup" in var:
                gname = str(var["fromGroup"])
                group = self.groups.get(gname)
                if group is None:
                    marker = f"fromGroup:{gname}"
                    group_vars[marker] = EnvVar(
                        marker,
                        None,
                        "fromGroup",
                        resolved=False,
                        note=f"the Blueprint defines no environment group {gname!r}: Render "
                        "uses the workspace's group of that name if it exists",
                        line=line,
                        ref_service=gname,
                    )
                    continue
                for gv in group.vars:
                    group_vars.setdefault(gv.key, gv)
                continue
            key = str(var["key"])
            if key in out:
                continue
            out[key] = self._service_var(var, key, what)
        merged = dict(group_vars)
        merged.update(out)
        return tuple(merged.values())

    def _service_var(self, var: Node, key: str, what: str) -> EnvVar:
        line = var.line
        plain = self._plain_var(var, what)
        if plain is not None:
            return replace(plain, key=key)
        if "sync" in var:
            return EnvVar(
                key,
                None,
                "sync",
                note="`sync: false`: the value is typed in the "
                "Dashboard when the Blueprint is first created",
                line=line,
            )
        if "fromService" in var:
            return self._from_service(var["fromService"], key, line)
        return self._from_database(var["fromDatabase"], key, line)

    def _find_service(self, name: str) -> _Raw | None:
        for raw in self.services:
            if raw.name == name:
                return raw
        return None

    def _find_database(self, name: str) -> tuple[_Raw, str | None] | None:
        for raw in self.databases:
            if raw.name == name:
                return raw, None
            for rep in raw.node.get("readReplicas") or []:
                if str(rep.get("name")) == name:
                    return raw, name
        return None

    def _from_service(self, ref: Node, key: str, line: int) -> EnvVar:
        name = str(ref["name"])
        rtype = str(ref["type"])
        rtype = "keyvalue" if rtype == "redis" else rtype
        prop = str(ref["property"]) if "property" in ref else None
        env_key = str(ref["envVarKey"]) if "envVarKey" in ref else None
        base = EnvVar(
            key,
            None,
            "fromService",
            line=line,
            ref_service=name,
            ref_type=rtype,
            ref_property=prop,
            ref_key=env_key,
        )
        target = self._find_service(name)
        if target is None:
            return replace(
                base,
                resolved=False,
                note=f"the Blueprint defines no service "
                f"{name!r}: Render resolves it if a {rtype} of that name already "
                "exists in the workspace",
            )
        if target.bp_type != rtype and not (rtype == "web" and target.kind is Kind.STATIC):
            return replace(
                base,
                resolved=False,
                note=f"the Blueprint defines {name!r} as "
                f"`type: {target.bp_type}`, not {rtype}: Render looks for an existing "
                f"{rtype} named {name!r}",
            )
        if env_key is not None:
            return self._from_env_key(base, target, env_key)
        assert prop is not None
        return self._service_property(base, target, prop)

    def _from_env_key(self, base: EnvVar, target: _Raw, env_key: str) -> EnvVar:
        if env_key in CROSS_SERVICE_BUILTINS:
            return replace(
                base,
                note=f"{env_key} of {target.name} holds its slug, whose hash "
                "Render assigns at creation",
            )
        for var, _ in target.vars:
            if var.get("key") == env_key:
                if "value" in var:
                    return replace(base, value=_text(var, "value"))
                why = {
                    "generateValue": "a value Render generates",
                    "sync": "a value typed in the Dashboard (`sync: false`)",
                }
                origin = next((k for k in why if k in var), None)
                note = (
                    f"{target.name}.{env_key} is {why[origin]}"
                    if origin
                    else f"{target.name}.{env_key} is itself a reference"
                )
                return replace(base, note=note)
        for gvar, _ in target.vars:
            group = self.groups.get(str(gvar.get("fromGroup", "")))
            for gv in group.vars if group else []:
                if gv.key == env_key:
                    return replace(base, value=gv.value, note=gv.note)
        if env_key.startswith("RENDER_") or env_key == "IS_PULL_REQUEST":
            return replace(
                base,
                resolved=False,
                note=f"{env_key} is one of {target.name}'s "
                "own built-in variables, which other services cannot read",
            )
        return replace(
            base,
            resolved=False,
            note=f"{target.name} sets no variable {env_key!r} "
            "in the Blueprint (Render keeps variables set in the Dashboard)",
        )

    def _service_property(self, base: EnvVar, target: _Raw, prop: str) -> EnvVar:
        kind = target.kind
        label = render.service_type(kind, target.plan).label
        slug = f"{slug_base(target.name)}-xxxx"
        if kind is Kind.KEYVALUE:
            if prop == "port":
                return replace(base, value=str(render.KEYVALUE_PORT))
            what = {
                "host": "its host",
                "hostport": "its host:port",
                "connectionString": "its internal URL",
            }[prop]
            return replace(
                base,
                note=f"{what} holds the Key Value id (`red-...`), which Render "
                "assigns at creation: redis://red-xxxxxxxxxxxxxxxxxxxx:6379",
            )
        if prop == "connectionString":
            return replace(
                base,
                resolved=False,
                note=f"connectionString is for Postgres and "
                f"Key Value only; {target.name} is a {label}",
            )
        if (
            kind not in (Kind.WEB, Kind.PSERV)
            or not render.service_type(kind, target.plan).has_internal_address
        ):
            stype = render.service_type(kind, target.plan)
            return replace(
                base,
                note=f"{target.name} is a {label}: "
                f"{stype.why_not_receiving or 'it has no internal address'}",
            )
        port = self._port_of(target)
        if prop == "port":
            return replace(base, value=str(port))
        if prop == "host":
            return replace(
                base, note=f"the slug's hash is assigned at creation: Render injects `{slug}`"
            )
        return replace(
            base,
            note=f"the slug's hash is assigned at creation: Render injects "
            f"`{slug}:{port}` (host:port, no scheme)",
        )

    def _from_database(self, ref: Node, key: str, line: int) -> EnvVar:
        name = str(ref["name"])
        prop = str(ref["property"])
        base = EnvVar(
            key,
            None,
            "fromDatabase",
            line=line,
            ref_service=name,
            ref_type="postgres",
            ref_property=prop,
        )
        found = self._find_database(name)
        if found is None:
            hint = ""
            svc = self._find_service(name)
            if svc is not None and svc.kind is Kind.KEYVALUE:
                hint = f" ({name} is a Key Value instance: use `fromService` with `type: keyvalue`)"
            return replace(
                base,
                resolved=False,
                note=f"the Blueprint defines no database "
                f"{name!r}: Render resolves it if one already exists in the "
                f"workspace{hint}",
            )
        db, _replica = found
        what = f"database {db.name!r}"
        if prop == "port":
            return replace(base, value=str(render.POSTGRES_PORT))
        if prop == "user":
            user = self.r.string(db.node, "user", what)
            if user:
                return replace(base, value=user)
            return replace(
                base, note="the user name is generated from the database name at creation"
            )
        if prop == "database":
            database = self.r.string(db.node, "databaseName", what)
            if database:
                return replace(base, value=database, note="Render may add a suffix to it")
            return replace(base, note="the database name is generated at creation")
        if prop == "password":
            return replace(base, note="Render generates the password at creation")
        if prop == "host":
            return replace(
                base, note="the host is the database id (`dpg-...-a`), assigned at creation"
            )
        return replace(
            base,
            note="holds the database id (`dpg-...-a`) and a password, both "
            "assigned at creation: postgresql://USER:PASSWORD@dpg-...-a:5432/DATABASE",
        )


def parse(doc: Any, file: str) -> Workspace:
    """Build the Workspace a parsed Blueprint document describes."""
    return _Parser(file).parse(doc)


def _text(node: Node, key: str) -> str:
    """An env var value as Render stores it: the scalar's source text (`yes`, `0755`)."""
    value = node.get(key)
    if value is None:
        return ""
    raw = node.raw_of(key)
    if raw is not None and not isinstance(value, str):
        return raw
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _folder_name(file: str) -> str:
    """A name for the workspace: the repository folder of a `render.yaml`, else the file's stem."""
    path = Path(file)
    if path.name not in ("render.yaml", "render.yml") or file.startswith("<"):
        return path.stem or "blueprint"
    try:
        return path.resolve().parent.name or path.stem
    except OSError:
        return path.stem


__all__ = ["load", "loads", "parse", "slug_base"]


def _unique_names(services: list[Service], databases: list[Service]) -> list[Service]:
    """Render keeps services and databases apart, so a Blueprint may name one of each `app`; in
    the model a name is unique, so such a database is `app (postgres)`, and the `fromDatabase`
    references to it follow."""
    taken = {svc.name for svc in services}
    renamed = {db.name: f"{db.name} ({db.kind.value})" for db in databases if db.name in taken}
    if not renamed:
        return services + databases

    def follow(var: EnvVar) -> EnvVar:
        if var.origin == "fromDatabase" and var.ref_service in renamed:
            return replace(var, ref_service=renamed[var.ref_service])
        return var

    out = [replace(svc, env=tuple(follow(v) for v in svc.env)) for svc in services]
    for db in databases:
        if db.name in renamed:
            db = replace(db, name=renamed[db.name], blueprint_name=db.name)
        out.append(replace(db, env=tuple(follow(v) for v in db.env)))
    return out
