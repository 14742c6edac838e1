"""The Render Blueprint loader: real-world shapes, references, and Render's own refusals."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnet.errors import InputError
from pnet.model import EnvVar, Kind, Platform, Service, Workspace
from pnet.sources import blueprint

BLUEPRINTS = Path(__file__).resolve().parent.parent / "fixtures" / "blueprints"


def load(text: str) -> Workspace:
    return blueprint.loads(textwrap.dedent(text), "render.yaml")


def svc(ws: Workspace, name: str, kind: Kind | None = None) -> Service:
    for s in ws.services:
        if s.ref_name == name and (kind is None or s.kind is kind):
            return s
    raise AssertionError(f"no service {name}")


def var(s: Service, key: str) -> EnvVar:
    found = s.env_var(key)
    assert found is not None, f"{s.name} has no {key}"
    return found


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        load(text)
    return str(info.value)


# ---- the sample Blueprints ----------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(BLUEPRINTS.glob("*.yaml")), ids=lambda p: p.name)
def test_every_sample_blueprint_loads(path: Path) -> None:
    ws = blueprint.load(path)
    assert ws.platform is Platform.RENDER
    assert ws.services
    assert ws.source == str(path)


def test_multi_service_model() -> None:
    ws = blueprint.load(BLUEPRINTS / "multi-service.yaml")
    api = svc(ws, "api")
    assert (api.kind, api.region, api.plan, api.ports) == (Kind.WEB, "ohio", "pro", (8000,))
    assert api.instances == 2  # scaling.minInstances
    assert api.health_path == "/healthz"
    assert api.public_url == "https://api.example.com"
    assert api.host == "api" and not api.host_known
    assert api.start_command and "gunicorn" in api.start_command
    search = svc(ws, "search")
    assert (search.kind, search.ports) == (Kind.PSERV, (9200,))
    celery = svc(ws, "celery")
    assert celery.kind is Kind.WORKER and celery.host is None and celery.ports == ()
    assert celery.instances == 2
    assert svc(ws, "nightly-report").kind is Kind.CRON
    queue = svc(ws, "queue")
    assert (queue.kind, queue.ports, queue.ip_allow_list) == (Kind.KEYVALUE, (6379,), ())
    db = svc(ws, "shop-db")
    assert (db.kind, db.plan, db.database, db.user) == (Kind.POSTGRES, "pro-8gb", "shop", "shop")
    assert db.ip_allow_list == ("203.0.113.0/24",)
    assert not db.host_known
    replica = svc(ws, "shop-db-replica")
    assert replica.kind is Kind.POSTGRES and replica.region == "ohio"
    assert svc(ws, "analytics-db").ip_allow_list == ()


def test_env_groups_merge_and_service_vars_win() -> None:
    ws = blueprint.load(BLUEPRINTS / "multi-service.yaml")
    api = svc(ws, "api")
    otel = var(api, "OTEL_SERVICE_NAMESPACE")
    assert (otel.value, otel.origin, otel.ref_service) == ("shop", "fromGroup", "observability")
    assert var(api, "DJANGO_SETTINGS_MODULE").value == "shop.settings.production"
    assert var(api, "WEB_CONCURRENCY").value == "4"
    ws2 = load(
        """
        services:
          - {type: web, name: a, runtime: node, envVars: [{fromGroup: g}, {key: X, value: own}]}
        envVarGroups:
          - {name: g, envVars: [{key: X, value: group}, {key: Y, value: only-group}]}
        """
    )
    a = svc(ws2, "a")
    assert var(a, "X").value == "own" and var(a, "X").origin == "value"
    assert var(a, "Y").value == "only-group"


def test_projects_and_environments() -> None:
    ws = blueprint.load(BLUEPRINTS / "projects.yaml")
    assert ws.name == "ledger" and ws.project == "ledger"
    assert set(ws.environments) == {"ledger/production", "ledger/staging"}
    assert ws.environments["ledger/production"].isolated
    assert not ws.environments["ledger/staging"].isolated
    api = svc(ws, "ledger-api")
    assert (api.project, api.environment, api.region) == (
        "ledger",
        "ledger/production",
        "frankfurt",
    )
    assert svc(ws, "ledger-db").environment == "ledger/production"
    assert svc(ws, "ledger-rates").ports == (7070,)
    assert var(api, "LOG_FORMAT").value == "json"
    status = svc(ws, "status-page")
    assert status.kind is Kind.STATIC and status.region is None and status.environment is None


def test_legacy_blueprint() -> None:
    ws = blueprint.load(BLUEPRINTS / "legacy.yaml")
    app = svc(ws, "rails-app")
    assert app.runtime == "ruby" and app.ports == (10000,)
    redis = svc(ws, "rails-redis")
    assert redis.kind is Kind.KEYVALUE and redis.plan == "free"
    url = var(app, "REDIS_URL")
    assert (url.origin, url.ref_type, url.ref_property, url.resolved) == (
        "fromService",
        "keyvalue",
        "connectionString",
        True,
    )
    assert url.value is None and "red-" in url.note
    assert var(app, "RAILS_SERVE_STATIC_FILES").value == "yes"
    assert var(app, "RAILS_MASTER_KEY").origin == "sync"
    db = svc(ws, "rails-db")
    assert db.ip_allow_list == ("0.0.0.0/0",)
    assert any("rails-db" in n and "every IP" in n for n in ws.notes)


def test_json_syntax_blueprint() -> None:
    ws = blueprint.load(BLUEPRINTS / "json-syntax.yaml")
    proxy = svc(ws, "edge-proxy")
    assert proxy.region == "singapore" and proxy.ports == (8080,)
    assert var(proxy, "CACHE_TTL_SECONDS").value == "300"
    assert var(proxy, "STRICT").value == "true"
    up = var(proxy, "UPSTREAM_HOSTPORT")
    assert up.value is None and "renderer-xxxx:4000" in up.note and "no scheme" in up.note


def test_external_references_load_unresolved() -> None:
    ws = blueprint.load(BLUEPRINTS / "external-refs.yaml")
    thumb = svc(ws, "thumbnailer")
    for key in ("DATABASE_URL", "STORAGE_HOSTPORT", "MINIO_ROOT_PASSWORD", "CACHE_URL"):
        v = var(thumb, key)
        assert v.resolved is False and v.value is None and "already exists" in v.note, key
    assert var(thumb, "MINIO_ROOT_PASSWORD").ref_key == "MINIO_ROOT_PASSWORD"
    group = var(thumb, "fromGroup:media-shared")
    assert (group.origin, group.resolved, group.ref_service) == ("fromGroup", False, "media-shared")
    jobs = svc(ws, "thumbnail-jobs")
    assert var(jobs, "THUMBNAILER_PORT").value == "7000"
    assert var(jobs, "THUMBNAILER_HOST").resolved is True
    assert var(jobs, "UPLOADS_URL").resolved is False


def test_mistakes_blueprint_carries_what_diagnosis_needs() -> None:
    ws = blueprint.load(BLUEPRINTS / "mistakes.yaml")
    backend = svc(ws, "backend")
    jobs = var(backend, "JOBS_HOST")
    assert (jobs.ref_type, jobs.ref_property, jobs.value) == ("worker", "host", None)
    assert "cannot receive" in jobs.note
    api_url = var(svc(ws, "frontend"), "API_URL")
    assert api_url.ref_property == "hostport" and "no scheme" in api_url.note
    assert svc(ws, "main-db").region == "frankfurt" and backend.region == "oregon"
    assert svc(ws, "main-db").ip_allow_list == ("0.0.0.0/0",)
    assert svc(ws, "cache").ip_allow_list == ("0.0.0.0/0",)
    redis = var(backend, "REDIS_URL")
    assert redis.resolved is False and "fromService" in redis.note
    assert var(svc(ws, "frontend"), "NEXT_PUBLIC_API_URL").value == "http://backend-k3j9:8000"


# ---- references ---------------------------------------------------------------------------


def test_references_resolved_as_render_injects() -> None:
    ws = load(
        """
        services:
          - type: web
            name: front
            runtime: node
            envVars:
              - {key: H, fromService: {name: api, type: pserv, property: host}}
              - {key: P, fromService: {name: api, type: pserv, property: port}}
              - {key: HP, fromService: {name: api, type: pserv, property: hostport}}
              - {key: KVP, fromService: {name: kv, type: keyvalue, property: port}}
              - {key: TOKEN, fromService: {name: api, type: pserv, envVarKey: TOKEN}}
              - {key: SECRET, fromService: {name: api, type: pserv, envVarKey: SECRET}}
              - key: DISC
                fromService: {name: api, type: pserv, envVarKey: RENDER_DISCOVERY_SERVICE}
              - {key: DBP, fromDatabase: {name: db, property: port}}
              - {key: DBU, fromDatabase: {name: db, property: user}}
              - {key: DBN, fromDatabase: {name: db, property: database}}
              - {key: DBPW, fromDatabase: {name: db, property: password}}
              - {key: DBH, fromDatabase: {name: db, property: host}}
          - type: pserv
            name: api
            runtime: go
            envVars:
              - {key: TOKEN, value: abc123}
              - {key: SECRET, generateValue: true}
          - {type: keyvalue, name: kv, ipAllowList: []}
        databases:
          - {name: db, user: app, databaseName: appdb}
        """
    )
    front = svc(ws, "front")
    assert var(front, "H").value is None and "api-xxxx" in var(front, "H").note
    assert var(front, "P").value == "10000"
    hp = var(front, "HP")
    assert (hp.value, hp.origin, hp.ref_service, hp.ref_type, hp.ref_property) == (
        None,
        "fromService",
        "api",
        "pserv",
        "hostport",
    )
    assert "api-xxxx:10000" in hp.note
    assert var(front, "KVP").value == "6379"
    assert var(front, "TOKEN").value == "abc123"
    assert var(front, "SECRET").value is None and "generates" in var(front, "SECRET").note
    assert var(front, "DISC").value is None
    assert var(front, "DBP").value == "5432"
    assert var(front, "DBU").value == "app"
    assert var(front, "DBN").value == "appdb"
    assert var(front, "DBPW").value is None
    assert var(front, "DBH").value is None and "dpg-" in var(front, "DBH").note
    assert all(v.resolved for v in front.env)


def test_reference_to_wrong_type_is_unresolved() -> None:
    ws = load(
        """
        services:
          - type: web
            name: front
            runtime: node
            envVars: [{key: A, fromService: {name: api, type: pserv, property: host}}]
          - {type: web, name: api, runtime: node}
        """
    )
    a = var(svc(ws, "front"), "A")
    assert a.resolved is False and "type: web" in a.note


def test_port_comes_from_port_env_var() -> None:
    ws = load(
        """
        services:
          - {type: web, name: a, runtime: node, envVars: [{key: PORT, value: 8080}]}
          - {type: pserv, name: b, runtime: node}
          - {type: web, name: c, runtime: node, envVars: [{fromGroup: g}]}
        envVarGroups:
          - {name: g, envVars: [{key: PORT, value: "9000"}]}
        """
    )
    assert svc(ws, "a").ports == (8080,)
    assert svc(ws, "b").ports == (10000,)
    assert svc(ws, "c").ports == (9000,)


# ---- what Render accepts ------------------------------------------------------------------


def test_yaml_scalars_keep_their_text() -> None:
    ws = load(
        """
        services:
          - type: web
            name: a
            runtime: node
            envVars:
              - {key: A, value: yes}
              - {key: B, value: 8080}
              - {key: C, value: 0755}
              - {key: D, value: 1.10}
              - {key: E, value: "quoted"}
              - {key: F, value: true}
              - {key: G, value: ~}
        """
    )
    a = svc(ws, "a")
    got = {v.key: v.value for v in a.env}
    assert got == {
        "A": "yes",
        "B": "8080",
        "C": "0755",
        "D": "1.10",
        "E": "quoted",
        "F": "true",
        "G": "",
    }


def test_names_with_dots_capitals_and_a_service_and_database_of_one_name() -> None:
    ws = load(
        """
        services:
          - {type: web, name: My.API, runtime: python, domains: [api.example.org], autoDeploy: no}
          - {type: keyvalue, name: data, ipAllowList: []}
        databases:
          - name: data
        """
    )
    api = svc(ws, "My.API")
    assert api.host == "my-api" and not api.host_known
    assert svc(ws, "data", Kind.KEYVALUE).ports == (6379,)
    assert svc(ws, "data", Kind.POSTGRES).ports == (5432,)


def test_unknown_but_valid_spec_keys_load() -> None:
    ws = load(
        """
        previews: {generation: automatic, expireAfterDays: 2}
        services:
          - type: web
            name: a
            runtime: docker
            repo: https://github.com/example/a
            branch: main
            rootDir: services/a
            dockerfilePath: ./Dockerfile
            dockerContext: .
            dockerCommand: ./run.sh
            registryCredential: {fromRegistryCreds: {name: ghcr}}
            autoDeployTrigger: checksPass
            maxShutdownDelaySeconds: 120
            buildFilter: {paths: [src/**], ignoredPaths: [docs/**]}
            previews: {generation: manual, plan: starter, numInstances: 1}
            previewPlan: starter
            disk: {name: data, mountPath: /data, sizeGB: 5}
            ipAllowList: [{source: 198.51.100.1, description: home}]
          - type: cron
            name: c
            runtime: python
            schedule: "*/5 * * * *"
            startCommand: python job.py
        databases:
          - name: db
            plan: accelerated-16gb
            postgresMajorVersion: "17"
            diskSizeGB: 30
            storageAutoscalingEnabled: true
            previewPlan: basic-256mb
            highAvailability: {enabled: true}
        """
    )
    a = svc(ws, "a")
    assert a.start_command == "./run.sh"
    assert a.ip_allow_list == ("198.51.100.1",)
    assert svc(ws, "db").plan == "accelerated-16gb"


def test_static_site_has_no_region_nor_plan() -> None:
    ws = load(
        """
        services:
          - {type: web, name: s, runtime: static, staticPublishPath: dist, region: frankfurt}
        """
    )
    s = svc(ws, "s")
    assert (s.kind, s.region, s.plan, s.host, s.ports) == (Kind.STATIC, None, None, None, ())


def test_free_web_service_cannot_receive() -> None:
    ws = load("services: [{type: web, name: w, runtime: node, plan: free}]")
    w = svc(ws, "w")
    assert w.plan == "free" and not w.type.receives


def test_defaults() -> None:
    ws = load("services: [{type: pserv, name: p, runtime: node}]\ndatabases: [{name: d}]")
    p, d = svc(ws, "p"), svc(ws, "d")
    assert (p.region, p.plan, p.ports, p.instances) == ("oregon", "starter", (10000,), 1)
    assert (d.region, d.plan) == ("oregon", "basic-256mb")


def test_empty_allow_list_entries_and_null() -> None:
    ws = load("services: [{type: keyvalue, name: k, ipAllowList: }]")
    assert svc(ws, "k").ip_allow_list == ()


# ---- what Render refuses ------------------------------------------------------------------


WEB = "services: [{type: web, name: a, runtime: node, %s}]"
ENV = WEB % "envVars: [%s]"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "services: [{type: lambda, name: a, runtime: node}]",
            "render.yaml:1: 'type' of service 'a' is 'lambda'",
        ),
        ("services:\n  - name: a\n    runtime: node\n", "render.yaml:2: service 'a' needs 'type'"),
        ("services:\n  - type: web\n    runtime: node\n", "render.yaml:2: a service needs 'name'"),
        ("services: [{type: web, name: a}]", "service 'a' needs 'runtime'"),
        ("services: [{type: web, name: a, runtime: cobol}]", "'runtime' of service 'a' is 'cobol'"),
        (
            "services: [{type: worker, name: a, runtime: node, plan: free}]",
            "free plan is not available for background workers",
        ),
        (
            "services: [{type: pserv, name: a, runtime: node, plan: free}]",
            "free plan is not available for private services",
        ),
        (
            "services: [{type: cron, name: a, runtime: node, plan: free, schedule: '* * * * *'}]",
            "free plan is not available for cron jobs",
        ),
        (
            WEB % "plan: gigantic",
            "'plan' of service 'a' is 'gigantic'",
        ),
        (
            WEB % "region: mars",
            "'region' of service 'a' is 'mars', expected one of: oregon",
        ),
        ("databases: [{name: d, region: tokyo}]", "'region' of database 'd' is 'tokyo'"),
        ("databases: [{name: d, plan: huge}]", "'plan' of database 'd' is 'huge'"),
        (
            WEB % "healthCheck: /",
            "unknown key 'healthCheck' in service 'a'",
        ),
        ("service:\n  - type: web\n", "render.yaml:1: unknown key 'service' in the Blueprint"),
        ("services: {type: web}", "`services` of the Blueprint must be a list"),
        (
            WEB % "envVars: {A: b}",
            "'envVars' of service 'a' must be a list",
        ),
        (
            WEB % "numInstances: many",
            "'numInstances' of service 'a' must be a whole number",
        ),
        (
            WEB % "domains: example.com",
            "'domains' of service 'a' must be a list",
        ),
        ("services: [{type: keyvalue, name: k}]", "needs 'ipAllowList'"),
        (
            "services: [{type: keyvalue, name: k, ipAllowList: [{source: not-an-ip}]}]",
            "expected an IP address or CIDR block",
        ),
        (
            "services: [{type: keyvalue, name: k, ipAllowList: [10.0.0.0/8]}]",
            "each 'ipAllowList' entry of service 'k'",
        ),
        ("services: [{type: cron, name: c, runtime: node}]", "needs 'schedule'"),
        ("services: [{type: postgres, name: p}]", "go in the `databases:` list"),
        ("services: [{type: static, name: s}]", "`type: web` with `runtime: static`"),
        (
            ENV % "{key: A, fromService: {name: b, property: host}}",
            "needs 'type'",
        ),
        (
            ENV % "{key: A, fromService: {name: b, type: pserv}}",
            "needs exactly one of 'property'",
        ),
        (
            ENV % "{key: A, fromService: {name: b, type: pserv, property: url}}",
            "'property' of 'fromService' of env var 'A' of service 'a' is 'url'",
        ),
        (
            ENV % "{key: A, fromService: {name: b, type: postgres, property: host}}",
            "with `fromDatabase`",
        ),
        (
            ENV % "{key: A, fromDatabase: {name: b}}",
            "needs 'property'",
        ),
        (
            ENV % "{key: A}",
            "env var 'A' of service 'a' needs one of",
        ),
        (
            ENV % "{value: x}",
            "an env var of service 'a' needs 'key'",
        ),
        (
            ENV % "{key: A, value: x, sync: false}",
            "sets both 'value' and 'sync'",
        ),
        (
            ENV % "{key: A, value: [1]}",
            "'value' of env var 'A' of service 'a' must be a string",
        ),
        (
            ENV % "{key: A, sync: true}",
            "`sync` only takes `false`",
        ),
        (
            ENV % "{key: A, value: x}, {key: A, value: y}",
            "sets env var 'A' twice",
        ),
        (
            WEB % "numInstances: 2, disk: {name: d, mountPath: /d}",
            "render.yaml:1: service 'a' has a persistent disk and cannot scale",
        ),
        (
            "envVarGroups: [{name: g, envVars: [{key: A, fromService: {name: b, type: pserv, "
            "property: host}}]}]",
            "an environment group cannot reference",
        ),
        ("envVarGroups: [{name: g, envVars: [{fromGroup: h}]}]", "cannot include another group"),
        (
            "services: [{type: web, name: a, runtime: node}, {type: pserv, name: a, runtime: go}]",
            "duplicate service name 'a'",
        ),
        ("databases: [{name: d}, {name: d}]", "duplicate database name 'd'"),
        ("projects: [{name: p}]", "project 'p' needs 'environments'"),
        ("projects: [{name: p, environments: []}]", "needs at least one environment"),
        (
            "projects: [{name: p, environments: [{name: e, networking: {isolation: maybe}}]}]",
            "'isolation' of environment 'e' of project 'p' is 'maybe'",
        ),
        (
            WEB % "scaling: {minInstances: 3, maxInstances: 2}",
            "minInstances (3) is above maxInstances (2)",
        ),
        (WEB % "env: python", "keep `runtime`"),
        ("", "render.yaml: the Blueprint is empty"),
        ("- a\n- b\n", "a Render Blueprint must be a mapping"),
    ],
)
def test_render_refusals_are_one_line(text: str, expected: str) -> None:
    message = error_of(text)
    assert expected in message
    assert "\n" not in message
    assert message.startswith("render.yaml")


def test_error_lines_point_at_the_problem() -> None:
    text = """\
    services:
      - type: web
        name: api
        runtime: node
        envVars:
          - key: A
            value: x
          - key: B
            fromService:
              name: other
              type: web
              property: address
    """
    assert error_of(text).startswith("render.yaml:12: 'property' of 'fromService'")


def test_duplicate_key_names_both_lines() -> None:
    assert error_of("services: []\nservices: []\n") == (
        "render.yaml:2: duplicate key 'services' (first on line 1)"
    )


def test_invalid_yaml() -> None:
    message = error_of("services:\n  - type: web\n   name: a\n")
    assert message.startswith("render.yaml:3: invalid YAML")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        blueprint.load(tmp_path / "render.yaml")
    assert str(info.value) == f"{tmp_path / 'render.yaml'}: no such file"


def test_env_group_sync_false_is_ignored_with_a_note() -> None:
    ws = load(
        """
        services: [{type: web, name: a, runtime: node, envVars: [{fromGroup: g}]}]
        envVarGroups: [{name: g, envVars: [{key: S, sync: false}, {key: T, value: t}]}]
        """
    )
    a = svc(ws, "a")
    assert a.env_var("S") is None and var(a, "T").value == "t"
    assert any("sync: false" in n for n in ws.notes)


def test_yaml_anchors_and_merge_keys() -> None:
    ws = load(
        """
        services:
          - &api
            type: web
            name: api
            runtime: python
            region: frankfurt
            envVars: &env
              - {key: A, value: yes}
          - <<: *api
            name: api-canary
            plan: standard
          - {type: worker, name: w, runtime: python, envVars: *env}
        """
    )
    canary = svc(ws, "api-canary")
    assert (canary.region, canary.plan) == ("frankfurt", "standard")
    assert var(svc(ws, "w"), "A").value == "yes"
    assert error_of("services:\n  - &a {type: web, name: x, runtime: go, name: y}\n").startswith(
        "render.yaml:2: duplicate key 'name'"
    )


def test_workspace_name(tmp_path: Path) -> None:
    repo = tmp_path / "acme-platform"
    repo.mkdir()
    (repo / "render.yaml").write_text("services: [{type: web, name: a, runtime: node}]\n")
    assert blueprint.load(repo / "render.yaml").name == "acme-platform"
    assert blueprint.load(BLUEPRINTS / "mistakes.yaml").name == "mistakes"


# ---- anything at all: a Workspace or one InputError, never a traceback ----------------------

_KEYS = st.sampled_from(
    [
        *blueprint.ROOT_KEYS,
        *blueprint.SERVICE_KEYS,
        *blueprint.DATABASE_KEYS,
        *blueprint.ENV_VAR_KEYS,
        *blueprint.FROM_SERVICE_KEYS,
        "source",
        "description",
        "environments",
        "networking",
        "isolation",
        "minInstances",
        "maxInstances",
        "bogus",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(
        [
            "web",
            "pserv",
            "worker",
            "cron",
            "keyvalue",
            "redis",
            "static",
            "node",
            "free",
            "starter",
            "oregon",
            "mars",
            "host",
            "hostport",
            "port",
            "connectionString",
            "api",
            "db",
            "0.0.0.0/0",
            "not-an-ip",
            "PORT",
            "8080",
            "",
            "enabled",
            "* * * * *",
        ]
    ),
)
_DOCS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=5)),
    max_leaves=30,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_DOCS)
def test_any_document_loads_or_fails_with_one_line(doc: object) -> None:
    text = yaml.safe_dump(doc)
    try:
        ws = blueprint.loads(text, "render.yaml")
    except InputError as exc:
        message = str(exc)
        assert message.startswith("render.yaml") and "\n" not in message
    else:
        assert ws.platform is Platform.RENDER


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_fails_with_one_line(text: str) -> None:
    try:
        blueprint.loads(text, "render.yaml")
    except InputError as exc:
        assert "\n" not in str(exc)


def test_a_port_that_is_not_a_number_loads_with_a_note() -> None:
    ws = load(
        "services: [{type: web, name: a, runtime: node, envVars: [{key: PORT, value: http}]}]"
    )
    assert svc(ws, "a").ports == (10000,)
    assert var(svc(ws, "a"), "PORT").value == "http"
    assert any("PORT of service 'a' is 'http'" in n for n in ws.notes)
