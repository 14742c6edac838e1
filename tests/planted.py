"""A Blueprint with planted faults, each line a finding must point at marked `# <- KIND`."""

from __future__ import annotations

import re
from pathlib import Path

PLANTED = """\
services:
  - type: web
    name: frontend
    runtime: node
    region: oregon
    envVars:
      - key: NEXT_PUBLIC_API_URL  # <- client-side-private-url
        value: http://backend-k3j9:8000
      - key: API_URL
        fromService:  # <- missing-scheme
          name: backend
          type: web
          property: hostport
      - fromGroup: shared
      - key: SEARCH_URL  # <- tls-on-private
        value: "https://search-a1b2:9200/q"
      - key: IMAGES_URL  # <- missing-scheme
        value: images-c3d4:7000
  - type: web
    name: backend
    runtime: python
    region: oregon
    envVars:
      - key: PORT  # <- reserved-port
        value: 18012
      - key: JOBS_HOST
        fromService:  # <- not-receiving
          name: jobs
          type: worker
          property: host
      - key: DATABASE_URL
        fromDatabase:  # <- cross-region
          name: main-db
          property: connectionString
  - type: pserv
    name: search
    runtime: docker
    region: oregon
    envVars:
      - key: PORT
        value: 9200
  - type: pserv
    name: images
    runtime: docker
    region: oregon
    envVars:
      - key: PORT
        value: 7000
  - type: worker
    name: jobs
    runtime: python
    region: oregon
  - type: keyvalue
    name: cache
    region: oregon
    ipAllowList:
      - source: 10.0.0.0/8
        description: office
      - source: 0.0.0.0/0  # <- public-database
        description: everywhere
databases:
  - name: main-db
    region: frankfurt
    ipAllowList: []
envVarGroups:
  - name: shared
    envVars:
      - key: BACKEND_URL  # <- wrong-url
        value: https://backend.onrender.com
"""


def expected() -> list[tuple[str, int, int]]:
    """(kind, line, column) of each marked line: the column of its first key."""
    out = []
    for number, line in enumerate(PLANTED.splitlines(), start=1):
        m = re.search(r"# <- ([a-z-]+)", line)
        if m:
            key = re.search(r"[A-Za-z]", line)
            assert key is not None
            out.append((m[1], number, key.start() + 1))
    return out


def write(folder: Path, name: str = "render.yaml") -> Path:
    path = folder / name
    path.write_text(PLANTED, encoding="utf-8")
    return path
