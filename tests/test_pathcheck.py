"""Path check: the platform's rules from the model, and the staged verdict from probe results."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from pnet.checks import ProbeEvent, Report, ReportEvent
from pnet.diagnose.finding import Finding, Severity
from pnet.model import Service, Workspace
from pnet.pathcheck import State, Verdict, check_path, network_stage, verdict
from pnet.probes.result import Outcome, ProbeResult
from pnet.sources import fixture
from pnet.targets import parse_target

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACME = fixture.load(FIXTURES / "render-acme.yaml")
SHOP = fixture.load(FIXTURES / "railway-shop.yaml")


def svc(ws: Workspace, name: str) -> Service:
    s = ws.service(name)
    assert s is not None
    return s


def test_same_region_receiving_service_is_one_network() -> None:
    stage = network_stage(ACME, svc(ACME, "api"), svc(ACME, "search"), 9200)
    assert stage.state is State.OK


def test_cross_region_fails_with_a_fix_that_works() -> None:
    stage = network_stage(ACME, svc(ACME, "api"), svc(ACME, "eu-db"), 5432)
    assert stage.state is State.FAILED
    assert "oregon" in stage.detail and "frankfurt" in stage.detail
    assert "IP allow list is empty" in stage.fix


def test_cross_environment_on_railway() -> None:
    stage = network_stage(SHOP, svc(SHOP, "api"), svc(SHOP, "search"), 7700)
    assert stage.state is State.FAILED
    assert "production" in stage.detail and "staging" in stage.detail


def test_types_that_do_not_receive() -> None:
    for name in ("mailer", "nightly-export", "preview", "docs"):
        stage = network_stage(ACME, svc(ACME, "api"), svc(ACME, name), None)
        assert stage.state is State.FAILED, name
        assert stage.fix


def test_static_site_cannot_send() -> None:
    stage = network_stage(ACME, svc(ACME, "docs"), svc(ACME, "api"), 8080)
    assert stage.state is State.FAILED
    assert "not on the private network" in stage.detail


def test_wrong_and_reserved_ports() -> None:
    wrong = network_stage(ACME, svc(ACME, "api"), svc(ACME, "search"), 9300)
    assert wrong.state is State.FAILED and "9200" in wrong.fix
    reserved = network_stage(ACME, svc(ACME, "api"), svc(ACME, "metrics"), 18012)
    assert reserved.state is State.FAILED and "reserved" in reserved.detail


def r(kind: str, target: str, outcome: Outcome, detail: str = "", **ev: Any) -> ProbeResult:
    return ProbeResult(kind, target, outcome, 1.0, detail, ev)


def test_verdict_all_good() -> None:
    t = parse_target("search", ACME)
    assert t is not None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [
            r("dns", "search-q1w2", Outcome.OK, addresses=["10.0.0.5"]),
            r("tcp", "10.0.0.5:9200", Outcome.OK),
            r("http", "http://search-q1w2:9200/", Outcome.OK, "HTTP 200"),
        ],
        done=True,
    )
    assert v.ok
    assert [s.state for s in v.stages] == [State.OK] * 4
    assert "10.0.0.5" in v.stage("resolves").detail


def test_verdict_refused_takes_the_fix_from_the_finding() -> None:
    t = parse_target("reports", ACME)
    assert t is not None
    finding = Finding(
        "refused", Severity.ERROR, t.subject, "nothing accepts on 9000", "bind 0.0.0.0:9000"
    )
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [
            r("dns", "reports-d3f4", Outcome.OK, addresses=["10.0.0.9"]),
            r("tcp", "10.0.0.9:9000", Outcome.REFUSED, "connection refused"),
        ],
        [finding],
        done=True,
    )
    bad = v.failed
    assert bad is not None and bad.name == "connects"
    assert bad.fix == "bind 0.0.0.0:9000"
    assert v.stage("answers").state is State.SKIPPED
    assert any("-> bind 0.0.0.0:9000" in line for line in v.lines())


def test_verdict_cross_region_explains_the_failed_lookup() -> None:
    t = parse_target("billing", ACME)
    assert t is not None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [r("dns", "billing-m3n4", Outcome.NXDOMAIN, "billing-m3n4: NXDOMAIN")],
        done=True,
    )
    first = v.failed
    assert first is not None and first.name == "resolves"
    assert "from oregon" in first.detail
    assert first.fix == v.stage("network").fix
    assert "cannot reach" in v.summary


def test_some_instances_down_is_a_warning() -> None:
    t = parse_target("inventory", ACME)
    assert t is not None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [
            r("dns", "inventory-k4l5", Outcome.OK),
            r("tcp", "a:8000", Outcome.OK),
            r("tcp", "b:8000", Outcome.REFUSED),
        ],
        done=True,
    )
    assert v.stage("connects").state is State.WARNING
    assert v.failed is None and "warning" in v.summary


async def test_check_path_streams_sharper_verdicts() -> None:
    async def stream(
        ws: Workspace, source: Service | None, targets: Any, options: Any
    ) -> AsyncGenerator[Any, None]:
        (t,) = targets
        yield ProbeEvent(t.subject, r("dns", "search-q1w2", Outcome.OK))
        yield ProbeEvent(t.subject, r("tcp", "10.0.0.5:9200", Outcome.OK))
        yield ReportEvent(Report(ws, source, (), ()))

    seen: list[Verdict] = [
        v async for v in check_path(ACME, svc(ACME, "api"), "search", stream=stream)
    ]
    assert len(seen) == 4
    assert seen[0].stage("resolves").state is State.PENDING
    assert seen[-1].done and seen[-1].ok


async def test_check_path_rejects_what_is_not_an_address() -> None:
    seen = [v async for v in check_path(ACME, None, "   ")]
    assert len(seen) == 1 and seen[0].failed is not None


def test_connect_and_pathcheck_are_core_no_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, pnet.platforms, pnet.pathcheck, pnet.cli\n"
        "assert 'textual' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_a_wrong_port_says_so_not_that_the_network_differs() -> None:
    t = parse_target("http://search-q1w2:9300", ACME, svc(ACME, "api"))
    assert t is not None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [
            r("dns", "search-q1w2", Outcome.OK, addresses=["10.0.0.5"]),
            r("tcp", "10.0.0.5:9300", Outcome.REFUSED, "connection refused"),
        ],
        done=True,
    )
    bad = v.failed
    assert bad is not None and bad.name == "network"
    assert "private network" not in bad.title
    assert v.summary.endswith("search does not serve port 9300")


def test_cross_region_summary_names_the_network_not_the_lookup() -> None:
    t = parse_target("billing", ACME)
    assert t is not None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [r("dns", "billing-m3n4", Outcome.NXDOMAIN, "billing-m3n4: NXDOMAIN")],
        done=True,
    )
    assert "not on one private network" in v.summary
    assert v.stage("connects").detail == "not reached"


def test_an_answer_not_tried_says_why() -> None:
    t = parse_target("gateway-t6y7:8000", ACME, svc(ACME, "api"))
    assert t is not None and t.scheme is None
    v = verdict(
        ACME,
        svc(ACME, "api"),
        t,
        [
            r("dns", "gateway-t6y7", Outcome.OK, addresses=["10.0.0.7"]),
            r("tcp", "10.0.0.7:8000", Outcome.OK),
        ],
        done=True,
    )
    answers = v.stage("answers")
    assert answers.state is State.SKIPPED
    assert "no scheme" in answers.detail


def test_an_unknown_region_is_not_a_cross_region_path() -> None:
    from dataclasses import replace

    from pnet.platforms import separation

    api = replace(svc(ACME, "api"), region=None)
    assert separation(ACME, api, api) is None
    assert separation(ACME, api, svc(ACME, "search")) is None
    assert separation(ACME, svc(ACME, "api"), svc(ACME, "billing")) is not None
