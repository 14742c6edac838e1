"""Workspaces the lab tests share: small, on ports no other test uses."""

from __future__ import annotations

from typing import Any

from pnet.lab import LabThread
from pnet.sources.fixture import Fixture

# A Railway project with a legacy IPv6-only and a dual-stack environment, and bind faults.
RAILWAY = """
platform: railway
project: shop
environments:
  production: {network: ipv6-only}
  staging: {network: dual-stack}
services:
  - {name: api, type: web, environment: production, ports: [13000]}
  - {name: catalog, type: web, environment: production, ports: [18000], health_path: /healthz}
  - {name: payments, type: pserv, environment: production, ports: [18080], lab: {bind: ipv4}}
  - name: redis
    type: keyvalue
    environment: production
    ports: [16379]
    lab: {auth: pw}
  - {name: web, type: web, environment: staging, ports: [13000]}
  - {name: api-staging, type: pserv, environment: staging, ports: [18000], lab: {bind: ipv6}}
  - {name: search, type: pserv, environment: staging, ports: [17700]}
"""


def lab_thread(fx: Fixture, **options: Any) -> LabThread:
    """A LabThread serving a fixture with its `lab:` faults."""
    return LabThread(fx.workspace, fx.lab, **options)
