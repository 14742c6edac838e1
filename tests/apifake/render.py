"""A fake of Render's REST API (v1), answering from data in its documented shapes.

Lists are cursor pages (`limit` 20 by default, at most 100; items `{cursor, <resource>}`),
every answer carries `Ratelimit-Limit`, `Ratelimit-Remaining` and `Ratelimit-Reset` from a
real fixed-window counter, and going over it gets a 429 with `Retry-After`, as
https://api-docs.render.com/reference/rate-limiting describes. `faults` queue answers a path
gives before its real one (a 429, a 500); `always` answers everything with one response.
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from tests.apifake.server import Request, Response

NOT_FOUND = Response(404, {"id": "not-found", "message": "not found"})
UNAUTHORIZED = Response(401, {"id": "unauthorized", "message": "unauthorized"})


@dataclass
class RenderData:
    """What a Render account holds, in the API's shapes; one JSON file per field."""

    owners: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    postgres: list[dict[str, Any]] = field(default_factory=list)
    key_value: list[dict[str, Any]] = field(default_factory=list)
    env_groups: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    env_vars: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    instances: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    connection_info: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def read(cls, folder: Path) -> RenderData:
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


def cursor_of(index: int) -> str:
    return base64.urlsafe_b64encode(f"item:{index}".encode()).decode().rstrip("=")


class RenderFake:
    """`fake(request) -> Response` for https://api.render.com/v1."""

    def __init__(
        self,
        data: RenderData,
        key: str,
        *,
        limit: int = 400,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.data = data
        self.key = key
        self.limit = limit
        self.window = window
        self.clock = clock
        self.faults: dict[str, list[Response]] = {}
        self.always: Response | None = None
        self.answered: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._start = clock()
        self._count = 0

    def statuses(self, status: int) -> int:
        with self._lock:
            return sum(1 for _, s in self.answered if s == status)

    def __call__(self, request: Request) -> Response:
        response = self._answer(request)
        with self._lock:
            self.answered.append((request.path, response.status))
        return response

    def _budget(self) -> tuple[bool, list[tuple[str, str]]]:
        with self._lock:
            now = self.clock()
            if now - self._start >= self.window:
                self._start, self._count = now, 0
            self._count += 1
            left = max(0, self.limit - self._count)
            reset = max(1, math.ceil(self.window - (now - self._start)))
            over = self._count > self.limit
        headers = [
            ("Ratelimit-Limit", str(self.limit)),
            ("Ratelimit-Remaining", str(left)),
            ("Ratelimit-Reset", str(reset)),
        ]
        if over:
            headers.append(("Retry-After", str(reset)))
        return over, headers

    def _answer(self, request: Request) -> Response:
        if request.headers.get("authorization") != f"Bearer {self.key}":
            return UNAUTHORIZED
        over, headers = self._budget()
        if over:
            return Response(429, {"id": "rate-limit", "message": "rate limit exceeded"}, headers)
        if self.always is not None:
            return self.always
        queued = self.faults.get(request.path)
        if queued:
            return queued.pop(0)
        response = self._route(request)
        response.headers = headers + response.headers
        return response

    def _route(self, request: Request) -> Response:
        if request.method != "GET" or not request.path.startswith("/v1/"):
            return NOT_FOUND
        parts = request.path[len("/v1/") :].split("/")
        d = self.data
        q = request.query
        owner = q.get("ownerId")
        if parts == ["owners"]:
            return self._page(d.owners, "owner", q)
        if parts == ["services"]:
            items = [s for s in d.services if owner in (None, s.get("ownerId"))]
            return self._page(items, "service", q)
        if parts == ["postgres"]:
            items = [p for p in d.postgres if owner in (None, p["owner"]["id"])]
            return self._page(items, "postgres", q)
        if parts == ["key-value"]:
            items = [k for k in d.key_value if owner in (None, k["owner"]["id"])]
            return self._page(items, "keyValue", q)
        if parts == ["env-groups"]:
            items = [
                {k: v for k, v in g.items() if k not in ("envVars", "secretFiles")}
                for g in d.env_groups
                if owner in (None, g.get("ownerId"))
            ]
            return self._page(items, "envGroup", q)
        if parts == ["projects"]:
            items = [p for p in d.projects if owner in (None, p["owner"]["id"])]
            return self._page(items, "project", q)
        if parts == ["environments"]:
            if "projectId" not in q:
                return Response(400, {"id": "invalid", "message": "projectId is required"})
            items = [e for e in d.environments if e.get("projectId") == q["projectId"]]
            return self._page(items, "environment", q)
        if len(parts) == 2 and parts[0] == "env-groups":
            group = next((g for g in d.env_groups if g["id"] == parts[1]), None)
            return Response(200, group) if group else NOT_FOUND
        if len(parts) >= 2 and parts[0] == "services":
            svc = next((s for s in d.services if s["id"] == parts[1]), None)
            if svc is None:
                return NOT_FOUND
            if len(parts) == 2:
                return Response(200, svc)
            if parts[2:] == ["env-vars"]:
                return self._page(d.env_vars.get(svc["id"], []), "envVar", q)
            if parts[2:] == ["instances"]:
                return Response(200, d.instances.get(svc["id"], []))
        if (
            len(parts) == 3
            and parts[0] in ("postgres", "key-value")
            and parts[2] == "connection-info"
        ):
            info = d.connection_info.get(parts[1])
            return Response(200, info) if info is not None else NOT_FOUND
        return NOT_FOUND

    def _page(self, items: list[dict[str, Any]], key: str, query: dict[str, str]) -> Response:
        text = query.get("limit", "20")
        if not text.isdigit() or not 1 <= int(text) <= 100:
            return Response(400, {"id": "invalid", "message": "limit must be 1 to 100"})
        start = 0
        if query.get("cursor"):
            known = [i for i in range(len(items)) if cursor_of(i) == query["cursor"]]
            if not known:
                return Response(400, {"id": "invalid", "message": "invalid cursor"})
            start = known[0] + 1
        chunk = items[start : start + int(text)]
        return Response(
            200, [{"cursor": cursor_of(start + i), key: item} for i, item in enumerate(chunk)]
        )
