"""`pnet lab FIXTURE` as a script sees it: the nameserver line first, exit 0 on a signal."""

from __future__ import annotations

import os
import re
import selectors
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import pytest

from tests.labspaces import RAILWAY

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACME = str(FIXTURES / "render-acme.yaml")


def command(*args: str) -> list[str]:
    return [sys.executable, "-m", "pnet.lab", *args]


def read_line(proc: subprocess.Popen[bytes], deadline_s: float = 20.0) -> str:
    """The first stdout line, read unbuffered so that communicate() gets all the rest."""
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    line = b""
    with selectors.DefaultSelector() as sel:
        sel.register(fd, selectors.EVENT_READ)
        for _ in range(500):
            if not sel.select(deadline_s):
                raise AssertionError("no line from pnet lab in time")
            byte = os.read(fd, 1)
            if byte in (b"", b"\n"):
                break
            line += byte
    return line.decode()


class Lab:
    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.returncode: int | None = None

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def communicate(self, timeout: float) -> tuple[str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        self.returncode = self.proc.returncode
        return out.decode(), err.decode()


@contextmanager
def running(*args: str) -> Iterator[tuple[Lab, str]]:
    env = dict(os.environ, PYTHONWARNINGS="error::ResourceWarning")
    proc = subprocess.Popen(
        command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, bufsize=0
    )
    try:
        yield Lab(proc), read_line(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=20)


def nameserver(line: str) -> tuple[str, int]:
    assert line.startswith("nameserver "), line
    host, _, port = line.split()[1].rpartition(":")
    return host, int(port)


def test_nameserver_line_first_then_serves_until_sigint() -> None:
    with running(ACME) as (proc, first):
        host, port = nameserver(first)
        assert host == "127.0.0.1"
        reply = dns.query.udp(dns.message.make_query("api-x7f2", "A"), host, port=port, timeout=2)
        assert reply.rcode() == dns.rcode.NOERROR and len(reply.answer[0]) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
    assert "region oregon" in out
    assert re.search(r"api +api-x7f2 +127\.\d+\.1\.1:8080 +http +listening", out), out
    assert "Traceback" not in err and "Warning" not in err


def test_sigterm_stops_cleanly() -> None:
    with running(ACME) as (proc, first):
        nameserver(first)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err


def test_network_of_prints_that_networks_resolver() -> None:
    with running(ACME, "--network-of", "frankfurt") as (proc, first):
        host, port = nameserver(first)
        assert re.fullmatch(r"127\.\d+\.0\.53", host), host
        far = dns.query.udp(dns.message.make_query("api-x7f2", "A"), host, port=port, timeout=2)
        assert far.rcode() == dns.rcode.NXDOMAIN
        near = dns.query.udp(
            dns.message.make_query("billing-m3n4", "A"), host, port=port, timeout=2
        )
        assert near.rcode() == dns.rcode.NOERROR
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0
    assert f"region frankfurt (ipv4-only): nameserver {host}:{port}" in out


def test_railway_notes_go_to_stderr(tmp_path: Path) -> None:
    shop = tmp_path / "shop.yaml"
    shop.write_text(RAILWAY)
    with running(str(shop)) as (proc, first):
        nameserver(first)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0
    notes = [line for line in err.splitlines() if line.startswith("pnet lab: note: ")]
    assert len([n for n in notes if "already served for" in n]) == 2
    assert "environment production (ipv6-only)" in out


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(*args), capture_output=True, text=True, timeout=30, check=False)


def test_bad_fixture_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("platform: render\nservices:\n  - name: api\n    type: web\n    colour: red\n")
    done = run(str(bad))
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"pnet: error: {bad}:5: ")


@pytest.mark.parametrize(
    "args, expected",
    [
        (("/nonexistent/ws.yaml",), "pnet: error: /nonexistent/ws.yaml"),
        ((ACME, "--network-of", "mars"), "pnet: error: --network-of mars: no such network"),
        ((ACME, "--dns-port", "70000"), "pnet: error: --dns-port 70000"),
        ((), "pnet: error: the following arguments are required: FIXTURE"),
        ((ACME, "--dns-port", "x"), "pnet: error: argument --dns-port: invalid int value"),
        ((ACME, "--netns", "--dns-port", "5353"), "pnet: error: --dns-port: with --netns"),
        (("exec",), "pnet: error: the following arguments are required: SERVICE"),
        (("exec", "api", "--instance", "0"), "pnet: error: --instance 0: instances are numbered"),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(args: tuple[str, ...], expected: str) -> None:
    done = run(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), done.stderr


def test_a_taken_dns_port_is_one_line_and_exit_2() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        done = run(ACME, "--dns-port", str(port))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"pnet: error: cannot serve DNS on 127.0.0.1:{port}: the address is in use by another "
        "process"
    ]
