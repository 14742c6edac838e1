"""A fake of Railway's public GraphQL API, answering the operations pnet sends by name.

Tokens go as `Authorization: Bearer` (account or workspace token) or `Project-Access-Token`
(a project token, which sees its one environment); every answer carries `X-RateLimit-Limit`,
`X-RateLimit-Remaining` and `X-RateLimit-Reset`, and an errored field comes back as GraphQL
does it: `errors` with the field's `path`, beside the rest of `data`.
"""

from __future__ import annotations

import copy
import json
import re
import threading
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tests.apifake.server import Request, Response

OPERATION = re.compile(r"^\s*query\s+(\w+)")
NOT_AUTHORIZED = {"message": "Not Authorized", "extensions": {"code": "UNAUTHORIZED"}}


@dataclass
class RailwayData:
    """One Railway project, in the shapes the API answers; one JSON file per field.

    `environments` maps an environment id to the `environment` node (with its
    `serviceInstances`), its `privateNetworks` and its `shared` variables; `variables` maps
    an environment id to each service id's unrendered variables.
    """

    project: dict[str, Any] = field(default_factory=dict)
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    variables: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    project_token: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> RailwayData:
        return cls(
            **{
                f.name: json.loads((folder / f"{f.name.replace('_', '-')}.json").read_text())
                for f in fields(cls)
            }
        )

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for f in fields(self):
            text = json.dumps(getattr(self, f.name), indent=1, sort_keys=True) + "\n"
            (folder / f"{f.name.replace('_', '-')}.json").write_text(text)


class RailwayFake:
    """`fake(request) -> Response` for https://backboard.railway.com/graphql/v2."""

    def __init__(
        self,
        data: RailwayData,
        token: str,
        *,
        project_token: str | None = None,
        per_hour: int = 1000,
        more_projects: list[dict[str, Any]] | None = None,
    ) -> None:
        self.data = data
        self.token = token
        self.project_token = project_token
        self.per_hour = per_hour
        self.more_projects = more_projects or []
        self.deployments_forbidden = False
        self.faults: dict[str, list[Response]] = {}
        self.operations: list[str] = []
        self._lock = threading.Lock()
        self._count = 0
        self._hour = time.time() + 3600

    def __call__(self, request: Request) -> Response:
        if request.method != "POST" or request.path != "/graphql/v2":
            return Response(404, {"errors": [{"message": "not found"}]})
        body = request.json()
        query = str(body.get("query", ""))
        variables = body.get("variables") or {}
        m = OPERATION.match(query)
        op = m.group(1) if m else "?"
        with self._lock:
            self.operations.append(op)
            self._count += 1
            left = max(0, self.per_hour - self._count)
        headers = [
            ("X-RateLimit-Limit", str(self.per_hour)),
            ("X-RateLimit-Remaining", str(left)),
            ("X-RateLimit-Reset", str(int(self._hour))),
        ]
        queued = self.faults.get(op)
        if queued:
            return queued.pop(0)
        bearer = request.headers.get("authorization") == f"Bearer {self.token}"
        scoped = (
            self.project_token is not None
            and request.headers.get("project-access-token") == self.project_token
        )
        if not (bearer or scoped):
            return Response(200, {"data": None, "errors": [NOT_AUTHORIZED]}, headers)
        answer = self._answer(op, query, variables, scoped)
        return Response(200, answer, headers)

    def _answer(
        self, op: str, query: str, variables: dict[str, Any], scoped: bool
    ) -> dict[str, Any]:
        d = self.data
        only_env = d.project_token.get("environment", {}).get("id") if scoped else None
        if op == "ProjectToken":
            if not scoped:
                return {"data": None, "errors": [NOT_AUTHORIZED]}
            return {"data": {"projectToken": d.project_token}}
        if op == "Projects":
            if scoped:
                return {"data": None, "errors": [NOT_AUTHORIZED]}
            nodes = [{"id": d.project["id"], "name": d.project["name"]}, *self.more_projects]
            return {"data": {"projects": {"edges": [{"node": n} for n in nodes]}}}
        if op == "Project":
            if variables.get("id") != d.project["id"]:
                return {"data": {"project": None}, "errors": [{"message": "Project not found"}]}
            envs = [e for e in d.project["environments"] if only_env in (None, e["id"])]
            return {
                "data": {
                    "project": {
                        "id": d.project["id"],
                        "name": d.project["name"],
                        "environments": {"edges": [{"node": e} for e in envs]},
                        "services": {"edges": [{"node": s} for s in d.project["services"]]},
                    }
                }
            }
        if op == "Environment":
            env_id = variables.get("environmentId")
            if only_env not in (None, env_id) or env_id not in d.environments:
                return {"data": None, "errors": [NOT_AUTHORIZED]}
            data = copy.deepcopy(d.environments[env_id])
            asked = "latestDeployment" in query
            errors = []
            for i, edge in enumerate(data["environment"]["serviceInstances"]["edges"]):
                node = edge["node"]
                if not asked:
                    node.pop("latestDeployment", None)
                    node.pop("activeDeployments", None)
                elif self.deployments_forbidden:
                    node["latestDeployment"] = None
                    path = ["environment", "serviceInstances", "edges", i, "node"]
                    errors.append({**NOT_AUTHORIZED, "path": [*path, "latestDeployment"]})
            out: dict[str, Any] = {"data": data}
            if errors:
                out["errors"] = errors
            return out
        if op == "Variables":
            env_id = variables.get("environmentId")
            if only_env not in (None, env_id):
                return {"data": None, "errors": [NOT_AUTHORIZED]}
            per_service = d.variables.get(str(env_id), {})
            answer = {}
            i = 0
            while f"s{i}" in variables:
                answer[f"v{i}"] = per_service.get(variables[f"s{i}"], {})
                i += 1
            return {"data": answer}
        return {"data": None, "errors": [{"message": f'Cannot query operation "{op}"'}]}
