"""The Connect tabs: the strings a platform's dashboard shows, for every kind on both platforms."""

from __future__ import annotations

from pathlib import Path

import pytest

from pnet.model import Service, Workspace
from pnet.platforms import ConnectTab, connect_tabs
from pnet.platforms.render_connect import EXTERNAL_NOT_ALLOWED
from pnet.secrets import MASK
from pnet.sources import fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture(scope="module")
def acme() -> Workspace:
    return fixture.load(FIXTURES / "render-acme.yaml")


@pytest.fixture(scope="module")
def shop() -> Workspace:
    return fixture.load(FIXTURES / "railway-shop.yaml")


def svc(ws: Workspace, name: str) -> Service:
    s = ws.service(name)
    assert s is not None
    return s


def tabs_of(ws: Workspace, name: str, reveal: bool = False) -> dict[str, ConnectTab]:
    return {t.name: t for t in connect_tabs(ws, svc(ws, name), reveal=reveal)}


def value(tab: ConnectTab, label: str) -> str:
    f = tab.field(label)
    assert f is not None, f"{label} not in {[x.label for x in tab.fields]}"
    return f.value


def test_render_web_internal_external_ssh(acme: Workspace) -> None:
    tabs = tabs_of(acme, "api")
    assert list(tabs) == ["Internal", "External", "SSH"]
    assert value(tabs["Internal"], "Internal Address") == "api-x7f2:8080"
    assert value(tabs["Internal"], "Internal URL") == "http://api-x7f2:8080"
    assert value(tabs["Internal"], "Discovery Host") == "api-x7f2-discovery"
    assert value(tabs["External"], "External URL") == "https://api-x7f2.onrender.com"
    ssh = tabs["SSH"]
    assert value(ssh, "SSH Address") == "srv-<service id>@ssh.oregon.render.com"
    assert "dashboard" in ssh.note


def test_render_ssh_with_a_known_id(acme: Workspace) -> None:
    from dataclasses import replace

    api = replace(svc(acme, "api"), id="srv-abcdefghij0123456789")
    ssh = {t.name: t for t in connect_tabs(acme, api)}["SSH"]
    assert value(ssh, "SSH Address") == "srv-abcdefghij0123456789@ssh.oregon.render.com"


def test_render_private_service_has_a_service_address_and_no_external(acme: Workspace) -> None:
    tabs = tabs_of(acme, "search")
    assert list(tabs) == ["Internal", "SSH"]
    assert value(tabs["Internal"], "Service Address") == "search-q1w2:9200"
    assert value(tabs["Internal"], "Internal URL") == "http://search-q1w2:9200"


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("mailer", "background worker"),
        ("nightly-export", "cron job"),
        ("preview", "free web service"),
        ("docs", "static site"),
    ],
)
def test_render_types_that_cannot_receive_say_why(acme: Workspace, name: str, why: str) -> None:
    internal = tabs_of(acme, name)["Internal"]
    assert internal.fields == []
    assert why in internal.note
    assert "To receive private traffic" in internal.note


def test_render_free_web_and_static_keep_their_public_url(acme: Workspace) -> None:
    assert value(tabs_of(acme, "preview")["External"], "External URL").endswith(".onrender.com")
    assert value(tabs_of(acme, "docs")["External"], "External URL") == (
        "https://docs-s2d3.onrender.com"
    )
    assert "SSH" not in tabs_of(acme, "nightly-export")


def test_render_postgres_fields_masked(acme: Workspace) -> None:
    tabs = tabs_of(acme, "acme-db")
    internal, external = tabs["Internal"], tabs["External"]
    host = "dpg-d0a1b2c3d4e5f6g7h8i9-a"
    assert value(internal, "Hostname") == host
    assert value(internal, "Port") == "5432"
    assert value(internal, "Database") == "acme"
    assert value(internal, "Username") == "acme"
    assert value(internal, "Password") == MASK
    assert value(internal, "Internal Database URL") == f"postgresql://acme:{MASK}@{host}/acme"
    assert value(external, "External Database URL") == (
        f"postgresql://acme:{MASK}@{host}.oregon-postgres.render.com:5432/acme"
    )
    assert value(external, "PSQL Command") == (
        f"PGPASSWORD={MASK} psql -h {host}.oregon-postgres.render.com -p 5432 -U acme acme"
    )
    assert "0.0.0.0/0" in external.note
    every = [f.value for t in tabs.values() for f in t.fields] + [t.note for t in tabs.values()]
    assert not any("Hx9sK2pQ7vW4" in v for v in every)


def test_render_postgres_revealed(acme: Workspace) -> None:
    internal = tabs_of(acme, "acme-db", reveal=True)["Internal"]
    assert value(internal, "Password") == "Hx9sK2pQ7vW4"
    url = internal.field("Internal Database URL")
    assert url is not None and url.secret and "Hx9sK2pQ7vW4" in url.value


def test_render_postgres_with_an_empty_allow_list(acme: Workspace) -> None:
    external = tabs_of(acme, "eu-db")["External"]
    assert value(external, "External Database URL") == EXTERNAL_NOT_ALLOWED
    assert value(external, "PSQL Command") == EXTERNAL_NOT_ALLOWED
    assert external.note == EXTERNAL_NOT_ALLOWED
    f = external.field("PSQL Command")
    assert f is not None and not f.copyable


def test_render_keyvalue_internal_auth_and_blocked_external(acme: Workspace) -> None:
    tabs = tabs_of(acme, "cache")
    assert value(tabs["Internal"], "Internal Key Value URL") == (
        f"redis://default:{MASK}@red-c0d1e2f3g4h5i6j7k8l9:6379"
    )
    assert value(tabs["External"], "External Key Value URL") == EXTERNAL_NOT_ALLOWED
    assert value(tabs["External"], "Valkey CLI Command") == EXTERNAL_NOT_ALLOWED


def test_render_keyvalue_open_external(acme: Workspace) -> None:
    from dataclasses import replace

    cache = replace(svc(acme, "cache"), ip_allow_list=("203.0.113.0/24",), internal_auth=False)
    tabs = {t.name: t for t in connect_tabs(acme, cache, reveal=True)}
    assert value(tabs["Internal"], "Internal Key Value URL") == (
        "redis://red-c0d1e2f3g4h5i6j7k8l9:6379"
    )
    assert value(tabs["External"], "External Key Value URL") == (
        "rediss://red-c0d1e2f3g4h5i6j7k8l9:Rq3mZ8tY1nB6@oregon-keyvalue.render.com:6379"
    )
    assert value(tabs["External"], "Valkey CLI Command") == (
        "REDISCLI_AUTH=Rq3mZ8tY1nB6 valkey-cli --user red-c0d1e2f3g4h5i6j7k8l9 "
        "-h oregon-keyvalue.render.com -p 6379 --tls"
    )
    masked = {t.name: t for t in connect_tabs(acme, cache)}
    assert "Rq3mZ8tY1nB6" not in value(masked["External"], "Valkey CLI Command")


def test_railway_service(shop: Workspace) -> None:
    tabs = tabs_of(shop, "api")
    internal = tabs["Internal"]
    assert value(internal, "Private Domain") == "api.railway.internal"
    assert value(internal, "Private URL") == "http://api.railway.internal:3000"
    assert value(internal, "Reference Variable") == "${{api.RAILWAY_PRIVATE_DOMAIN}}"
    assert value(internal, "Reference URL") == (
        "http://${{api.RAILWAY_PRIVATE_DOMAIN}}:${{api.PORT}}"
    )
    assert "IPv6-only" in internal.note
    assert value(tabs["External"], "Public Domain") == "https://api-production.up.railway.app"
    assert value(tabs["SSH"], "SSH Command") == (
        "railway ssh --service api --environment production"
    )


def test_railway_private_service_has_no_public_domain(shop: Workspace) -> None:
    tabs = tabs_of(shop, "search")
    assert "External" not in tabs
    assert "IPv4 and IPv6" in tabs["Internal"].note


def test_railway_postgres_and_redis(shop: Workspace) -> None:
    pg = tabs_of(shop, "postgres")["Internal"]
    assert value(pg, "DATABASE_URL") == (
        f"postgresql://postgres:{MASK}@postgres.railway.internal:5432/railway"
    )
    assert value(pg, "Reference Variable") == "${{postgres.DATABASE_URL}}"
    redis = tabs_of(shop, "redis")
    assert value(redis["Internal"], "REDIS_URL") == (
        f"redis://default:{MASK}@redis.railway.internal:6379"
    )
    assert value(redis["External"], "Reference Variable") == "${{redis.REDIS_PUBLIC_URL}}"
    assert "family=0" in redis["Internal"].note
    revealed = tabs_of(shop, "redis", reveal=True)["Internal"]
    assert "Lp0oK9iJ8uH7" in value(revealed, "REDIS_URL")


@pytest.mark.parametrize("kind", ["cron", "static"])
def test_railway_kinds_that_cannot_receive(shop: Workspace, kind: str) -> None:
    from dataclasses import replace

    from pnet.model import Kind
    from pnet.platforms import railway

    base = svc(shop, "search")
    other = replace(base, name="job", type=railway.service_type(Kind(kind), None), ports=())
    tabs = {t.name: t for t in connect_tabs(shop, other)}
    assert tabs["Internal"].fields == []
    assert "To receive private traffic" in tabs["Internal"].note


def test_railway_worker_still_has_a_private_domain(shop: Workspace) -> None:
    from dataclasses import replace

    from pnet.model import Kind
    from pnet.platforms import railway

    base = svc(shop, "search")
    worker = replace(
        base,
        name="jobs",
        host="jobs.railway.internal",
        ports=(),
        type=railway.service_type(Kind.WORKER, None),
    )
    internal = {t.name: t for t in connect_tabs(shop, worker)}["Internal"]
    assert value(internal, "Private Domain") == "jobs.railway.internal"
    assert internal.field("Private URL") is None
    assert value(internal, "Reference URL") == (
        "http://${{jobs.RAILWAY_PRIVATE_DOMAIN}}:${{jobs.PORT}}"
    )


def test_no_secret_in_any_masked_tab(acme: Workspace, shop: Workspace) -> None:
    from pnet.secrets import secrets_in

    for ws in (acme, shop):
        for s in ws.services:
            secrets = [s.password] if s.password else []
            for var in s.env:
                secrets += secrets_in(var.key, var.value)
            for tab in connect_tabs(ws, s):
                text = " ".join([tab.note] + [f.value for f in tab.fields])
                assert not any(x in text for x in secrets if x), (s.name, tab.name)


def test_a_blueprint_database_hostname_is_not_its_name() -> None:
    from pnet.sources import blueprint

    ws = blueprint.load(
        Path(__file__).resolve().parent.parent / "fixtures/blueprints/mistakes.yaml"
    )
    for name, host in (("main-db", "dpg-<id>-a"), ("cache", "red-<id>")):
        svc = ws.service(name)
        assert svc is not None and not svc.host_known
        (internal, *_) = connect_tabs(ws, svc)
        values = [f.value for f in internal.fields]
        assert values[0] == host
        assert not any(f"@{name}/" in v or f"//{name}:" in v for v in values)
        assert internal.note is not None and "assigned at creation" in internal.note
