"""Workspaces the lab tests share: small, on ports no other test uses."""

from __future__ import annotations

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
