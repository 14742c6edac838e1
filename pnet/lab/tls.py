"""A self-signed certificate for the lab's TLS listeners, made at start with the openssl CLI.

The key and certificate are written to a private temporary folder, loaded into a server
`SSLContext` and deleted at once; the certificate's PEM stays in memory so a client that wants
to trust it can (`Lab.tls_cert_pem`). It is valid for 30 days, for the names and addresses it
is made for; a client that verifies against the system's roots rejects it, as it would a
self-signed certificate on a real private network.
"""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pnet.lab.network import LabError

OPENSSL_TIMEOUT_S = 30.0


def _san(names: Iterable[str]) -> str:
    entries = []
    for name in dict.fromkeys(names):
        try:
            ipaddress.ip_address(name)
        except ValueError:
            entries.append(f"DNS:{name}")
        else:
            entries.append(f"IP:{name}")
    return ",".join(entries)


def make_certificate(names: Iterable[str]) -> tuple[ssl.SSLContext, str]:
    """(server context, certificate PEM) for a fresh self-signed certificate."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise LabError("lab.tls needs the openssl command to make a certificate; install openssl")
    names = list(names) or ["lab.invalid"]
    with tempfile.TemporaryDirectory(prefix="pnet-lab-tls-") as folder:
        key = Path(folder, "key.pem")
        cert = Path(folder, "cert.pem")
        cmd = [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "30",
            "-subj",
            "/O=pnet lab/CN=" + names[0][:64],
            "-addext",
            "subjectAltName=" + _san(names),
        ]
        try:
            done = subprocess.run(
                cmd, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise LabError(f"openssl could not make the lab's certificate: {exc}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise LabError(f"openssl could not make the lab's certificate: {last}")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert, key)
        pem = cert.read_text()
    return context, pem
