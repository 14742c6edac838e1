"""Blueprint shapes seen in public repositories that the other tests did not cover.

Each test is a small hand-written Blueprint with the shape that once failed to load or
loaded wrong, run through the loader and, where it matters, through `pnet-doctor`.
"""

from __future__ import annotations

import io
import json
import textwrap
from pathlib import Path

import pytest

from pnet import doctor
from pnet.checks import run_offline
from pnet.errors import InputError
from pnet.model import Kind, Service, Workspace
from pnet.sources import blueprint
from pnet.targets import sweep as sweep_targets


def load(text: str) -> Workspace:
    return blueprint.loads(textwrap.dedent(text), "render.yaml")


def svc(ws: Workspace, name: str, kind: Kind | None = None) -> Service:
    for s in ws.services:
        if s.ref_name == name and (kind is None or s.kind is kind):
            return s
    raise AssertionError(f"no service {name}")


def lint(tmp_path: Path, text: str, *extra: str) -> tuple[int, str, str]:
    path = tmp_path / "render.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(
        ["--blueprint", str(path), "--offline", "--all", *extra],
        stdout=out,
        stderr=err,
        environ={},
    )
    return rc, out.getvalue(), err.getvalue()


# ---- YAML 1.1 words in string fields -------------------------------------------------------


def test_unquoted_off_in_an_enum_field_is_the_word_off() -> None:
    # Render reads YAML 1.2: `off` is a string, not YAML 1.1's false.
    ws = load(
        """\
        previews:
          generation: off
        services:
          - type: web
            name: app
            runtime: node
            autoDeployTrigger: off
        """
    )
    assert svc(ws, "app").kind is Kind.WEB


def test_a_numeric_looking_string_field_keeps_its_source_text() -> None:
    ws = load(
        """\
        services:
          - type: web
            name: 0755
            runtime: python
            startCommand: 1.10
        """
    )
    app = ws.services[0]
    assert app.name == "0755"
    assert app.start_command == "1.10"


def test_a_word_that_is_not_a_choice_still_fails_with_its_line() -> None:
    with pytest.raises(InputError) as info:
        load(
            """\
            previews:
              generation: yes
            services: []
            """
        )
    assert str(info.value).startswith("render.yaml:2: 'generation' of `previews` is 'yes'")


def test_offline_lint_of_a_project_with_previews_off(tmp_path: Path) -> None:
    rc, out, err = lint(
        tmp_path,
        """\
        previews:
          generation: off
        projects:
          - name: shop
            environments:
              - name: production
                services:
                  - type: web
                    name: shop-web
                    runtime: image
                    image: {url: docker.io/library/nginx:1}
        """,
        "--format",
        "json",
    )
    assert (rc, err) == (0, "")
    assert json.loads(out)["workspace"]["name"] == "shop"


# ---- newer fields ----------------------------------------------------------------------------


def test_key_value_persistence_mode_is_accepted() -> None:
    ws = load(
        """\
        services:
          - type: keyvalue
            name: cache
            ipAllowList: []
            maxmemoryPolicy: noeviction
            persistenceMode: off
        """
    )
    assert svc(ws, "cache").kind is Kind.KEYVALUE


def test_persistence_mode_must_be_a_scalar() -> None:
    with pytest.raises(InputError) as info:
        load(
            """\
            services:
              - type: keyvalue
                name: cache
                ipAllowList: []
                persistenceMode: [journal]
            """
        )
    assert str(info.value).startswith("render.yaml:5: 'persistenceMode' of service 'cache'")


def test_a_database_may_set_its_preview_plan_in_a_previews_block() -> None:
    ws = load(
        """\
        previews:
          generation: manual
          expireAfterDays: 2
        services:
          - type: web
            name: api
            runtime: node
            previews: {plan: free}
            envVars:
              - key: API_KEY
                value: production-key
                previewValue: test-key
        databases:
          - name: app_db
            plan: free
            previews:
              plan: free
        """
    )
    assert svc(ws, "app_db").kind is Kind.POSTGRES


def test_a_database_previews_block_must_be_a_mapping() -> None:
    with pytest.raises(InputError) as info:
        load(
            """\
            databases:
              - name: db
                previews: free
            """
        )
    assert str(info.value) == (
        "render.yaml:3: 'previews' of database 'db' must be a mapping, not the text 'free'"
    )


def test_a_web_service_and_a_database_may_share_a_name() -> None:
    # Render's own examples (PostHog, Redash, Forem, Hasura) name both after the app:
    # `fromService` and `fromDatabase` tell the two apart.
    ws = load(
        """\
        services:
          - type: web
            name: app
            runtime: docker
            envVars:
              - key: DATABASE_URL
                fromDatabase: {name: app, property: connectionString}
        databases:
          - name: app
        """
    )
    kinds = sorted(s.kind.value for s in ws.services if s.ref_name == "app")
    assert kinds == ["postgres", "web"]
    assert sorted(s.name for s in ws.services) == ["app", "app (postgres)"]
    ref = svc(ws, "app", Kind.WEB).env_var("DATABASE_URL")
    assert ref is not None
    assert (ref.origin, ref.ref_service, ref.ref_type, ref.resolved) == (
        "fromDatabase",
        "app (postgres)",
        "postgres",
        True,
    )
    report = run_offline(ws, None, sweep_targets(ws))
    (check,) = [c for c in report.checks if c.target.subject.endswith("DATABASE_URL")]
    assert check.target.service == "app (postgres)"
    assert "fromDatabase: {name: app," in check.target.raw
    assert not [f for f in report.findings if f.severity != "info" and f.kind != "public-database"]


def test_underscored_numbers_keep_their_source_text() -> None:
    ws = load(
        """\
        envVarGroups:
          - name: rails
            envVars:
              - key: RACK_TIMEOUT
                value: 100_000
        services:
          - type: worker
            name: jobs
            runtime: ruby
            envVars:
              - fromGroup: rails
        """
    )
    timeout = svc(ws, "jobs").env_var("RACK_TIMEOUT")
    assert timeout is not None and timeout.value == "100_000"


def test_yaml_11_words_as_keys_and_names_stay_as_written() -> None:
    ws = load(
        """\
        envVarGroups:
          - name: off
            envVars:
              - {key: NO, value: 1}
        services:
          - type: web
            name: api
            runtime: node
            envVars:
              - fromGroup: off
              - key: ON
                value: yes
              - key: PEER
                fromService: {name: 0755, type: pserv, property: host}
          - type: pserv
            name: 0755
            runtime: node
        databases:
          - name: db
            readReplicas:
              - name: 010
        """
    )
    api = svc(ws, "api")
    assert {v.key: v.value for v in api.env if v.key in ("NO", "ON")} == {"NO": "1", "ON": "yes"}
    peer = api.env_var("PEER")
    assert peer is not None and (peer.ref_service, peer.resolved) == ("0755", True)
    assert svc(ws, "010").kind is Kind.POSTGRES


def test_a_language_render_runs_only_in_docker_says_so() -> None:
    with pytest.raises(InputError) as info:
        load(
            """\
            services:
              - type: web
                name: api
                env: java
            """
        )
    assert str(info.value) == (
        "render.yaml:4: 'env' of service 'api' is 'java', expected one of: node, python, "
        "elixir, go, ruby, rust, docker, image, static; Render has no native java runtime: "
        "build it with `runtime: docker`"
    )


def test_a_browser_variable_to_a_blueprint_web_service_is_told_its_public_url() -> None:
    ws = load(
        """\
        services:
          - type: web
            name: frontend
            runtime: node
            envVars:
              - key: NEXT_PUBLIC_API
                fromService: {name: backend, type: web, property: host}
          - type: web
            name: backend
            runtime: node
        """
    )
    report = run_offline(ws, None, sweep_targets(ws))
    [f] = [f for f in report.findings if f.kind == "client-side-private-url"]
    assert "NEXT_PUBLIC_API=https://backend-XXXX.onrender.com" in f.fix
    assert "no public URL" not in f.fix
