"""The Blueprint spec's keys, types, runtimes, plans and regions, and the checks of the fields
that take them."""

from __future__ import annotations

import ipaddress
import re

from pnet.model import Kind
from pnet.platforms import render
from pnet.sources.schema import Reader
from pnet.yamlload import Node

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
KIND = {
    "web": Kind.WEB,
    "pserv": Kind.PSERV,
    "worker": Kind.WORKER,
    "cron": Kind.CRON,
    "keyvalue": Kind.KEYVALUE,
}


def read_runtime(r: Reader, node: Node, what: str, kind: Kind) -> str | None:
    """A service's `runtime` (or the older `env`), refused outside Render's native runtimes."""
    for key in ("runtime", "env"):
        given = r.string(node, key, what)
        if given is not None and given.strip().lower() not in RUNTIMES:
            hint = ""
            if given.strip().lower() in DOCKER_ONLY_LANGUAGES:
                hint = f"; Render has no native {given} runtime: build it with `runtime: docker`"
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


def read_service_plan(r: Reader, node: Node, what: str, kind: Kind) -> str | None:
    """A service's plan in Render's spelling (`pro plus`); None for a static site."""
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


def read_region(r: Reader, node: Node, what: str) -> str:
    """A resource's region, Render's default when the file names none."""
    return r.choice(node, "region", what, render.REGIONS) or render.DEFAULT_REGION


def check_shapes(r: Reader, node: Node, what: str) -> None:
    """Type-check the fields pnet does not model, so a wrong shape fails as Render would."""
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


def read_allow_list(r: Reader, node: Node, what: str) -> tuple[str, ...] | None:
    """The `ipAllowList` CIDR blocks; None when absent, `()` when given empty."""
    if "ipAllowList" not in node:
        return None
    if node["ipAllowList"] is None:
        return ()
    seq = r.sequence(node["ipAllowList"], f"'ipAllowList' of {what}", node.line_of("ipAllowList"))
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
