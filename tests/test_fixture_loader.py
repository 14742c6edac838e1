"""The fixture format: every bad input is one `FILE:LINE: message`, Railway references resolve."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pnet.errors import InputError
from pnet.model import Kind, Network, Platform, Workspace
from pnet.sources import fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def load(text: str) -> Workspace:
    return fixture.loads(textwrap.dedent(text), "ws.yaml")


def error_of(text: str) -> str:
    with pytest.raises(InputError) as info:
        load(text)
    return str(info.value)


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_fixtures_load(path: Path) -> None:
    ws = fixture.load(path)
    assert ws.services
    names = [s.name for s in ws.services]
    assert len(names) == len(set(names))


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        fixture.load(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(InputError) as info:
        fixture.load(tmp_path)
    assert str(info.value).endswith(": is a folder, not a file")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"platform: render\xff\xfe\n")
    with pytest.raises(InputError) as info:
        fixture.load(path)
    assert "not a UTF-8 text file" in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "ws.yaml: the file is empty"),
        ("services:\n  - name: a\n   type: web\n", "ws.yaml:3: invalid YAML"),
        (
            "services: [{name: a, type: web}]\nservices: []\n",
            "ws.yaml:2: duplicate key 'services' (first on line 1)",
        ),
        (
            "services:\n  - name: a\n    type: lambda\n",
            "ws.yaml:3: 'type' of service 'a' is 'lambda', expected one of: web",
        ),
        ("services:\n  - name: a\n", "ws.yaml:2: service 'a' needs 'type'"),
        ("services:\n  - type: web\n", "ws.yaml:2: a service needs 'name'"),
        (
            "services:\n  - name: a\n    type: web\n    region: mars\n",
            "ws.yaml:4: 'region' of service 'a' is 'mars'",
        ),
        (
            "services:\n  - name: a\n    type: web\n    colour: red\n",
            "ws.yaml:4: unknown key 'colour' in a service",
        ),
        ("workspace: x\nsevices: []\n", "ws.yaml:2: unknown key 'sevices' in the fixture"),
        (
            "services:\n  - name: a\n    type: web\n    ports: [http]\n",
            "ws.yaml:4: 'ports' of service 'a' must be a port",
        ),
        (
            "services:\n  - name: a\n    type: web\n    ports: [70000]\n",
            "must be a port from 1 to 65535",
        ),
        (
            "services:\n  - name: a\n    type: web\n    instances: lots\n",
            "ws.yaml:4: 'instances' of service 'a' must be a whole number",
        ),
        (
            "services:\n  - name: a\n    type: web\n    env: [A]\n",
            "ws.yaml:4: 'env' of service 'a' must be a mapping",
        ),
        (
            "services:\n  - name: a\n    type: web\n    env:\n      A: {b: c}\n",
            "ws.yaml:5: env var 'A' of service 'a' must be a string",
        ),
        ("services: {name: a}\n", "`services` must be a list"),
        (
            "services:\n  - name: a\n    type: web\n  - name: a\n    type: pserv\n",
            "ws.yaml:4: duplicate service name 'a' (first on line 2)",
        ),
        (
            "services:\n  - name: a\n    type: web\n    host: x-1234\n"
            "  - name: b\n    type: web\n    host: x-1234\n",
            "ws.yaml:7: host 'x-1234' is used twice",
        ),
        (
            "services:\n  - name: a\n    type: web\n    lab: {bind: everywhere}\n",
            "'bind' of 'lab' of service 'a' is 'everywhere'",
        ),
        (
            "services:\n  - name: a\n    type: web\n    lab: {shout: yes}\n",
            "unknown key 'shout' in 'lab' of service 'a'",
        ),
        (
            "services:\n  - name: a\n    type: web\n    environment: prod\n",
            "`environment:` is for Railway",
        ),
        ("environments: {prod: {}}\nservices: []\n", "`environments:` describes Railway networks"),
        ("platform: heroku\nservices: []\n", "'platform' of the fixture is 'heroku'"),
        (
            "platform: railway\nenvironments: {prod: {network: ipv5}}\nservices: []\n",
            "'network' of environment 'prod' is 'ipv5'",
        ),
        (
            "platform: railway\nenvironments: {prod: {}}\n"
            "services:\n  - name: a\n    type: web\n    environment: staging\n",
            "ws.yaml:6: service 'a' is in environment 'staging', which `environments:` does not",
        ),
    ],
)
def test_bad_fixtures_are_one_line(text: str, expected: str) -> None:
    message = error_of(text)
    assert expected in message
    assert "\n" not in message


def test_yaml_1_1_scalars_in_env_become_text() -> None:
    ws = load(
        """
        services:
          - name: a
            type: web
            env: {A: yes, B: 8080, C: ~}
        """
    )
    a = ws.services[0]
    assert [(v.key, v.value) for v in a.env] == [("A", "true"), ("B", "8080"), ("C", "")]


def test_render_defaults() -> None:
    ws = load(
        "services: [{name: api, type: web}, {name: db, type: postgres}, {name: w, type: worker}]"
    )
    api, db, worker = ws.services
    assert (api.region, api.plan, api.ports, api.host, api.host_known) == (
        "oregon",
        "starter",
        (10000,),
        "api",
        False,
    )
    assert (db.plan, db.ports) == ("basic-256mb", (5432,))
    assert worker.host is None and worker.ports == ()


def test_railway_shop_networks() -> None:
    ws = fixture.load(FIXTURES / "railway-shop.yaml")
    assert ws.platform is Platform.RAILWAY and ws.project == "shop"
    assert ws.environments["production"].network is Network.IPV6_ONLY
    assert ws.environments["staging"].network is Network.DUAL_STACK
    api = ws.service("api")
    assert api is not None and api.host == "api.railway.internal"


RAILWAY = """
platform: railway
project: shop
environments:
  production:
    network: dual-stack
    shared: {SENTRY_ENVIRONMENT: production, APP_HOST: "${{api.RAILWAY_PRIVATE_DOMAIN}}"}
  staging: {network: dual-stack}
services:
  - name: api
    type: web
    environment: production
    ports: [3000]
    public_url: https://api-production.up.railway.app
    env:
      PORT: 3000
      DATABASE_URL: ${{Postgres.DATABASE_URL}}
      REDIS_URL: ${{Redis.REDIS_URL}}
      WORKER_URL: http://${{worker.RAILWAY_PRIVATE_DOMAIN}}:${{worker.PORT}}
      SEARCH_URL: http://${{search.RAILWAY_PRIVATE_DOMAIN}}:7700
      SENTRY_ENVIRONMENT: ${{shared.SENTRY_ENVIRONMENT}}
      MISSING: ${{shared.NOPE}}
      SELF_URL: https://${{ RAILWAY_PUBLIC_DOMAIN }}
      OWN_PORT: ${{PORT}}
      CHAIN: ${{web.API_BASE}}
  - name: web
    type: web
    environment: production
    env:
      API_BASE: http://${{api.RAILWAY_PRIVATE_DOMAIN}}:${{api.PORT}}
  - name: worker
    type: pserv
    environment: production
  - name: Postgres
    type: postgres
    environment: production
    user: postgres
    password: Zk7wE2rR9tQ1
    database: railway
  - name: Redis
    type: keyvalue
    environment: production
    password: Lp0oK9iJ8uH7
  - name: search
    type: pserv
    environment: staging
    ports: [7700]
"""


def test_railway_references_resolve() -> None:
    ws = fixture.loads(RAILWAY, "shop.yaml")
    api = ws.service("api")
    assert api is not None

    def value(key: str) -> str | None:
        v = api.env_var(key)
        assert v is not None
        return v.value

    assert value("DATABASE_URL") == (
        "postgresql://postgres:Zk7wE2rR9tQ1@postgres.railway.internal:5432/railway"
    )
    assert value("REDIS_URL") == "redis://default:Lp0oK9iJ8uH7@redis.railway.internal:6379"
    assert value("SENTRY_ENVIRONMENT") == "production"
    assert value("SELF_URL") == "https://api-production.up.railway.app"
    assert value("OWN_PORT") == "3000"
    assert value("CHAIN") == "http://api.railway.internal:3000"
    db = api.env_var("DATABASE_URL")
    assert db is not None
    assert (db.origin, db.resolved, db.ref_service, db.ref_key) == (
        "reference",
        True,
        "Postgres",
        "DATABASE_URL",
    )
    plain = api.env_var("PORT")
    assert plain is not None and plain.origin == "value"


def test_railway_port_reference_does_not_resolve_to_the_listening_port() -> None:
    ws = fixture.loads(RAILWAY, "shop.yaml")
    api = ws.service("api")
    assert api is not None
    worker = api.env_var("WORKER_URL")
    assert worker is not None
    assert worker.value is None and worker.resolved is False
    assert (worker.ref_service, worker.ref_key) == ("worker", "PORT")
    assert "does not set PORT itself" in worker.note


def test_railway_references_stay_inside_their_environment() -> None:
    ws = fixture.loads(RAILWAY, "shop.yaml")
    api = ws.service("api")
    assert api is not None
    search = api.env_var("SEARCH_URL")
    assert search is not None and search.value is None and not search.resolved
    assert "no service named 'search'" in search.note
    missing = api.env_var("MISSING")
    assert missing is not None and "no shared variable 'NOPE'" in missing.note


def test_railway_shared_variables_reference_services() -> None:
    from pnet.platforms import railway

    res = railway.resolve(
        "${{shared.APP_HOST}}",
        service="web",
        variables={"api": {"RAILWAY_PRIVATE_DOMAIN": "api.railway.internal"}},
        shared={"APP_HOST": "${{api.RAILWAY_PRIVATE_DOMAIN}}"},
    )
    assert res.value == "api.railway.internal"


def test_railway_reference_cycles_are_bounded() -> None:
    from pnet.platforms import railway

    res = railway.resolve(
        "${{a.X}}",
        service="b",
        variables={"a": {"X": "${{b.Y}}"}, "b": {"Y": "${{a.X}}"}},
    )
    assert res.value is None and "refers back to itself" in res.note


def test_railway_reference_syntax() -> None:
    from pnet.platforms import railway

    assert railway.parse_reference(" KEY ") == (None, "KEY")
    assert railway.parse_reference("api.PORT") == ("api", "PORT")
    assert railway.parse_reference("my.svc.PORT") == ("my.svc", "PORT")
    case = railway.resolve(
        "${{postgres.PGHOST}}", service="x", variables={"Postgres": {"PGHOST": "h"}}
    )
    assert case.value == "h"


def test_kinds_of_fixture_services() -> None:
    ws = fixture.load(FIXTURES / "render-acme.yaml")
    kinds = {s.kind for s in ws.services}
    assert {Kind.WEB, Kind.PSERV, Kind.WORKER, Kind.CRON, Kind.STATIC, Kind.POSTGRES} <= kinds


def test_control_characters_are_one_line() -> None:
    assert error_of("services:\n  - name: a\x07\n") == (
        "ws.yaml:2: invalid YAML: character 0x0007 is not allowed in a YAML file"
    )


_KEYS = st.sampled_from(
    [
        *fixture.TOP_KEYS,
        *fixture.SERVICE_KEYS,
        *fixture.LAB_KEYS,
        *fixture.ENVIRONMENT_KEYS,
        "production",
        "staging",
        "bogus",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 70000),
    st.sampled_from(
        [
            "render",
            "railway",
            "web",
            "pserv",
            "postgres",
            "oregon",
            "production",
            "ipv6-only",
            "loopback",
            "http",
            "${{api.PORT}}",
            "${{shared.X}}",
            "${{ A }}",
            "",
            "a",
            "b",
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
    try:
        fixture.loads(yaml.safe_dump(doc), "ws.yaml")
    except InputError as exc:
        assert str(exc).startswith("ws.yaml") and "\n" not in str(exc)
