"""Live rules: probe results and listeners confirm, drop or refine the static findings."""

from __future__ import annotations

from tests.test_diagnose_kit import (
    Listener,
    check,
    dns_ok,
    instance_tcp,
    kinds,
    probe,
    railway_ws,
    render_ws,
    rw,
    svc,
    tcp,
)


def _api(env, **kw):
    return svc("api", "web", host="api-x7f2", ports=[8080], env=env, **kw)


SEARCH = svc("search", host="search-q1w2", ports=[9200], health_path="/health")


def test_nxdomain_of_an_unknown_name_is_unknown_host_with_the_closest_name():
    ws = render_ws(_api({"S": "http://serch-q1w2:9200"}), SEARCH)
    found = check(ws, "api", results={"S": [probe("dns", "nxdomain")]})
    assert kinds(found) == [("unknown-host", "S")]
    assert "search-q1w2" in found[0].fix


def test_nxdomain_of_a_known_service_asks_whether_it_is_deployed():
    ws = render_ws(_api({"S": "http://search-q1w2:9200"}), SEARCH)
    [f] = check(ws, "api", results={"S": [probe("dns", "nxdomain")]})
    assert f.kind == "unknown-host" and "deployed" in f.fix


def test_a_name_that_resolves_is_not_unknown_even_if_the_model_does_not_know_it():
    ws = render_ws(
        _api({"R": "http://recs-a1b3:5000"}), svc("recs", host="recs-a1b2", ports=[5000])
    )
    assert kinds(check(ws, "api")) == [("unknown-host", "R")]
    live = {"R": [dns_ok(), tcp("ok", port=5000), probe("http", "ok")]}
    assert check(ws, "api", results=live) == []


def test_cross_region_stays_the_cause_when_the_name_does_not_resolve():
    ws = render_ws(
        _api({"B": "http://billing-m3n4:8000"}),
        svc("billing", region="frankfurt", host="billing-m3n4"),
    )
    [f] = check(
        ws, "api", results={"B": [probe("dns", "nxdomain", detail="billing-m3n4: NXDOMAIN")]}
    )
    assert f.kind == "cross-region"
    assert any("NXDOMAIN" in e for e in f.evidence)


def test_refused_on_the_right_port():
    ws = render_ws(_api({"S": "http://search-q1w2:9200"}), SEARCH)
    found = check(ws, "api", results={"S": [dns_ok(), tcp("refused", port=9200)]})
    assert kinds(found) == [("refused", "S")]


def test_a_refused_wrong_port_is_wrong_port_not_refused():
    ws = render_ws(_api({"S": "http://search-q1w2:9300"}), SEARCH)
    found = check(ws, "api", results={"S": [dns_ok(), tcp("refused", port=9300)]})
    assert kinds(found) == [("wrong-port", "S")]


def test_timeout_is_unreachable_and_the_http_timeout_is_not_a_second_finding():
    ws = render_ws(_api({"S": "http://search-q1w2:9200"}), SEARCH)
    results = {"S": [dns_ok(), tcp("timeout", port=9200), probe("http", "timeout")]}
    assert kinds(check(ws, "api", results=results)) == [("unreachable", "S")]


def test_loopback_bind_when_the_refused_address_is_local():
    ws = render_ws(
        _api({"R": "http://reports-d3f4:9000"}), svc("reports", host="reports-d3f4", ports=[9000])
    )
    results = {"R": [dns_ok(["127.1.1.9"]), tcp("refused", "127.1.1.9", 9000)]}
    found = check(ws, "api", results=results, listeners=[Listener(4, "127.0.0.1", 9000)])
    assert kinds(found) == [("loopback-bind", "R")]
    assert "0.0.0.0" in found[0].fix


def test_local_listeners_say_nothing_about_a_remote_instance():
    ws = render_ws(
        _api({"R": "http://reports-d3f4:9000"}), svc("reports", host="reports-d3f4", ports=[9000])
    )
    results = {"R": [dns_ok(["10.0.0.9"]), tcp("refused", "10.0.0.9", 9000)]}
    found = check(ws, "api", results=results, listeners=[Listener(4, "127.0.0.1", 9000)])
    assert kinds(found) == [("refused", "R")]


def test_ipv4_only_bind_in_an_ipv6_only_environment():
    api = rw("api", "web", env={"P": "http://payments.railway.internal:8080"})
    pay = rw("payments", ports=[8080])
    results = {"P": [dns_ok([], ["::1"]), tcp("refused", "::1", 8080)]}
    found = check(
        railway_ws(api, pay), "api", results=results, listeners=[Listener(4, "127.2.1.3", 8080)]
    )
    assert kinds(found) == [("ipv4-only-bind", "P")]
    assert "::" in found[0].fix and '--host ""' in found[0].fix


def test_ipv6_only_bind_from_the_two_families_and_from_listeners():
    web = rw(
        "web", "web", environment="staging", env={"A": "http://api-staging.railway.internal:8800"}
    )
    api = rw("api-staging", environment="staging", ports=[8800])
    ws = railway_ws(web, api)
    both = {
        "A": [
            dns_ok(["127.2.1.2"], ["::1"]),
            tcp("refused", "127.2.1.2", 8800),
            tcp("ok", "::1", 8800),
        ]
    }
    assert kinds(check(ws, "web", results=both)) == [("ipv6-only-bind", "A")]
    v4 = {"A": [dns_ok(["127.2.1.2"], ["::1"]), tcp("refused", "127.2.1.2", 8800)]}
    found = check(ws, "web", results=v4, listeners=[Listener(6, "::1", 8800, v6only=True)])
    assert kinds(found) == [("ipv6-only-bind", "A")]


def test_instance_down_when_some_instances_answer():
    inv = svc("inventory", host="inventory-k4l5", ports=[8000], instances=3)
    ws = render_ws(_api({"I": "http://inventory-k4l5:8000"}), inv)
    disc = probe("discovery", addresses=["10.0.0.1", "10.0.0.2", "10.0.0.3"])
    each = [
        instance_tcp(1, 3, "10.0.0.1", "refused"),
        instance_tcp(2, 3, "10.0.0.2", "ok"),
        instance_tcp(3, 3, "10.0.0.3", "ok"),
    ]
    results = {
        "I": [dns_ok(["10.0.0.1", "10.0.0.2", "10.0.0.3"]), disc, tcp("refused", "10.0.0.1"), *each]
    }
    found = check(ws, "api", results=results)
    assert kinds(found) == [("instance-down", "I")]
    assert "2 of 3" in found[0].message
    none = [
        instance_tcp(1, 2, "10.0.0.1", "refused"),
        instance_tcp(2, 2, "10.0.0.2", "refused"),
    ]
    disc2 = probe("discovery", addresses=["10.0.0.1", "10.0.0.2"])
    results2 = {"I": [dns_ok(["10.0.0.1", "10.0.0.2"]), disc2, tcp("refused", "10.0.0.1"), *none]}
    assert kinds(check(ws, "api", results=results2)) == [("refused", "I")]


def test_http_status_rules():
    ws = render_ws(_api({"S": "http://search-q1w2:9200/search"}), SEARCH)
    base = [dns_ok(), tcp("ok", port=9200)]
    five = probe("http", "http-status", status=503, path="/search")
    assert kinds(check(ws, "api", results={"S": [*base, five]})) == [("http-error", "S")]
    missing = probe("http", "http-status", status=404, path="/search")
    assert check(ws, "api", results={"S": [*base, missing]}) == []
    health = probe(
        "http", "http-status", "http://search-q1w2:9200/health", status=404, path="/health"
    )
    assert kinds(check(ws, "api", results={"S": [*base, health]})) == [("http-error", "S")]


def test_tls_on_private_is_confirmed_by_a_tls_error_and_cleared_by_a_handshake():
    ws = render_ws(
        _api({"G": "https://graph-z5x6:4000"}), svc("graph", host="graph-z5x6", ports=[4000])
    )
    base = [dns_ok(), tcp("ok", port=4000)]
    assert kinds(check(ws, "api", results={"G": [*base, probe("http", "tls-error")]})) == [
        ("tls-on-private", "G")
    ]
    assert check(ws, "api", results={"G": [*base, probe("http", "ok")]}) == []


def test_wrong_protocol_from_the_handshake():
    ws = render_ws(_api({"S": "http://search-q1w2:9200"}), SEARCH)
    base = [dns_ok(), tcp("ok", port=9200)]
    found = check(
        ws,
        "api",
        results={"S": [*base, probe("http", "protocol-error", banner="-ERR unknown command")]},
    )
    assert kinds(found) == [("wrong-protocol", "S")]
    ws2 = render_ws(
        _api({"Q": "redis://queue-r4t5:7000"}), svc("queue", host="queue-r4t5", ports=[7000])
    )
    found2 = check(
        ws2,
        "api",
        results={"Q": [dns_ok(), tcp("ok", port=7000), probe("redis", "protocol-error")]},
    )
    assert kinds(found2) == [("wrong-protocol", "Q")]


def test_auth_required_gives_the_url_with_credentials_and_no_secret():
    kv = svc("cache", "keyvalue", host="red-c0d1e2f3g4h5i6j7k8l9", password="Rq3mZ8tY1nB6")
    ws = render_ws(_api({"C": "redis://red-c0d1e2f3g4h5i6j7k8l9:6379"}), kv)
    results = {"C": [dns_ok(), tcp("ok", port=6379), probe("redis", "auth-required")]}
    [f] = check(ws, "api", results=results)
    assert f.kind == "auth-required"
    assert "C=redis://default:PASSWORD@red-c0d1e2f3g4h5i6j7k8l9:6379" in f.fix
    assert "Rq3mZ8tY1nB6" not in f.fix + f.message + "".join(f.evidence)
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", user="app", database="app")
    ws2 = render_ws(_api({"D": "postgresql://app@dpg-d0a1b2c3d4e5f6g7h8i9-a/app"}), db)
    r2 = {"D": [dns_ok(), tcp("ok", port=5432), probe("postgres", "auth-required")]}
    [g] = check(ws2, "api", results=r2)
    assert (
        g.kind == "auth-required"
        and "postgresql://app:PASSWORD@dpg-d0a1b2c3d4e5f6g7h8i9-a:5432/app" in g.fix
    )


def test_the_sources_own_listeners_inside_an_instance():
    api = _api({})
    assert kinds(
        check(render_ws(api), "api", inside=True, listeners=[Listener(4, "127.0.0.1", 8080)])
    ) == [("loopback-bind", "service:api")]
    assert check(render_ws(api), "api", inside=True, listeners=[Listener(4, "0.0.0.0", 8080)]) == []
    legacy = rw("api", "web", ports=[3000])
    assert kinds(
        check(railway_ws(legacy), "api", inside=True, listeners=[Listener(4, "0.0.0.0", 3000)])
    ) == [("ipv4-only-bind", "service:api")]
    assert check(railway_ws(legacy), "api", inside=True, listeners=[Listener(6, "::", 3000)]) == []
    dual = rw("api", "web", ports=[3000])
    found = check(
        railway_ws(dual, legacy=()),
        "api",
        inside=True,
        listeners=[Listener(6, "::", 3000, v6only=True)],
    )
    assert kinds(found) == [("ipv6-only-bind", "service:api")]


def test_inside_an_instance_nothing_on_its_own_port():
    api = _api({})
    [moved] = check(
        render_ws(api),
        "api",
        inside=True,
        listeners=[Listener(4, "0.0.0.0", 3000), Listener(4, "0.0.0.0", 22, process="sshd")],
    )
    assert (moved.kind, moved.subject) == ("wrong-port", "service:api")
    assert "listens on 3000" in moved.message and "PORT=3000" in moved.fix
    [none] = check(
        render_ws(api), "api", inside=True, listeners=[Listener(4, "0.0.0.0", 22, process="sshd")]
    )
    assert (none.kind, none.subject) == ("refused", "service:api")
    assert "nothing in this instance listens on port 8080" in none.message


def test_the_listeners_of_a_laptop_are_not_the_sources_own():
    api = _api({})
    assert check(render_ws(api), "api", listeners=[Listener(4, "127.0.0.1", 8080)]) == []


def test_ipv6_only_name_confirmed_or_dropped_by_dns():
    api = rw("api", "web", env={"R": "redis://redis.railway.internal:6379"})
    redis = rw("redis", "keyvalue")
    ws = railway_ws(api, redis)
    v6 = {"R": [dns_ok([], ["fd12::5"]), tcp("ok", "fd12::5", 6379), probe("redis", "ok")]}
    assert kinds(check(ws, "api", results=v6)) == [("ipv6-only-name", "R")]
    both = {
        "R": [dns_ok(["10.0.0.5"], ["fd12::5"]), tcp("ok", "10.0.0.5", 6379), probe("redis", "ok")]
    }
    assert check(ws, "api", results=both) == []


def test_skipped_probes_are_not_evidence():
    ws = render_ws(_api({"S": "http://search-q1w2:9200"}), SEARCH)
    skipped = probe("http", "refused", skipped=True)
    assert check(ws, "api", results={"S": [dns_ok(), tcp("ok", port=9200), skipped]}) == []


def test_postgres_sslmode_require_to_a_plain_internal_database():
    db = svc("db", "postgres", host="dpg-d0a1b2c3d4e5f6g7h8i9-a", user="app", database="app")
    url = "postgresql://app:pw123456@dpg-d0a1b2c3d4e5f6g7h8i9-a/app?sslmode=require"
    ws = render_ws(_api({"D": url}), db)
    results = {"D": [dns_ok(), tcp("ok", port=5432), probe("postgres", "tls-error")]}
    [f] = check(ws, "api", results=results)
    assert f.kind == "tls-on-private" and "sslmode=prefer" in f.fix
    assert "pw123456" not in f.fix
