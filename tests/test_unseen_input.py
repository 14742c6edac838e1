"""Files a person may hand to `--blueprint` / `--workspace` that are not what pnet expects.

Each must give exactly one `FILE[:LINE]: message` line and exit status 2, from both
`pnet-doctor` and `pnet`, and never a traceback.
"""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

import pytest

from pnet import cli, doctor, yamlload
from pnet.errors import InputError
from pnet.sources import blueprint


def doctor_error(path: Path | str) -> str:
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(["--blueprint", str(path), "--offline"], stdout=out, stderr=err, environ={})
    assert rc == 2
    assert out.getvalue() == ""
    lines = err.getvalue().splitlines()
    assert len(lines) == 1, err.getvalue()
    assert "Traceback" not in err.getvalue()
    return lines[0].removeprefix("pnet-doctor: error: ")


def app_error(path: Path | str, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["--blueprint", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    return lines[0].removeprefix("pnet: error: ")


def write(tmp_path: Path, data: str | bytes, name: str = "render.yaml") -> Path:
    path = tmp_path / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(textwrap.dedent(data), encoding="utf-8")
    return path


BAD = {
    "list-at-the-top": ("- type: web\n  name: a\n", ":1: a Render Blueprint must be a mapping"),
    "services-mapping": ("services: {}\n", ":1: `services` of the Blueprint must be a list"),
    "service-string": ("services:\n  - web\n", ":2: each entry of `services` must be a mapping"),
    "envvars-mapping": (
        "services:\n  - type: web\n    name: a\n    runtime: node\n    envVars:\n      A: b\n",
        ":5: 'envVars' of service 'a' must be a list, not a mapping",
    ),
    "fromservice-without-name": (
        "services:\n  - type: web\n    name: a\n    runtime: node\n    envVars:\n"
        "      - key: B\n        fromService: {type: pserv, property: host}\n",
        ":7: 'fromService' of env var 'B' of service 'a' needs 'name'",
    ),
    "tab-indent": (
        "services:\n\t- type: web\n",
        ":2: invalid YAML: a tab indents this line; YAML indents with spaces only",
    ),
    "two-documents": (
        "services: []\n---\nservices: []\n",
        ":2: invalid YAML: a second YAML document starts here (`---`)",
    ),
    "empty": ("", ": the Blueprint is empty"),
    "only-comments": ("# soon\n", ": the Blueprint is empty"),
    "nul-byte": ("services:\x00\n", ":1: invalid YAML: character 0x0000 is not allowed"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_blueprints_are_one_line_from_both_commands(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text, want = BAD[case]
    path = write(tmp_path, text)
    assert doctor_error(path).startswith(f"{path}{want}")
    assert app_error(path, capsys).startswith(f"{path}{want}")


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "services:\n  - type: web\n    name: caf\xe9\n".encode("latin-1"))
    assert doctor_error(path) == f"{path}:3: not a UTF-8 text file"


def test_binary_garbage(tmp_path: Path) -> None:
    path = write(tmp_path, bytes(range(256)) * 8)
    assert doctor_error(path).startswith(f"{path}")


def test_a_folder_and_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert doctor_error(tmp_path) == f"{tmp_path}: is a folder, not a file"
    assert app_error(tmp_path, capsys) == f"{tmp_path}: is a folder, not a file"
    missing = tmp_path / "nope.yaml"
    assert doctor_error(missing) == f"{missing}: no such file"


def test_a_file_too_large_is_refused_before_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlload, "MAX_BYTES", 1024)
    path = write(tmp_path, "services: []\n" + "# padding\n" * 200)
    assert doctor_error(path) == (
        f"{path}: 2.0 KiB is too large for a workspace description (at most 1.0 KiB)"
    )


def test_an_endless_stream_is_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlload, "MAX_BYTES", 1024)
    with pytest.raises(InputError) as info:
        yamlload.load_file("/dev/zero")
    assert str(info.value) == "/dev/zero: more than 1.0 KiB: too large for a workspace description"


def test_bom_and_crlf_line_endings_load_with_the_right_lines(tmp_path: Path) -> None:
    text = "services:\r\n  - type: web\r\n    name: a\r\n    runtime: node\r\n    plan: gold\r\n"
    path = write(tmp_path, b"\xef\xbb\xbf" + text.encode())
    with pytest.raises(InputError) as info:
        blueprint.load(path)
    assert str(info.value).startswith(f"{path}:5: 'plan' of service 'a' is 'gold'")
    good = write(tmp_path, b"\xef\xbb\xbf" + text.replace("gold", "pro").encode(), "ok.yaml")
    assert blueprint.load(good).services[0].plan == "pro"


def test_only_an_empty_services_list_is_a_workspace_with_nothing_to_check(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "services: []\n")
    out, err = io.StringIO(), io.StringIO()
    rc = doctor.main(["--blueprint", str(path), "--offline", "--all"], stdout=out, stderr=err)
    assert (rc, err.getvalue()) == (0, "")
    assert "nothing to check" in out.getvalue()


def test_document_markers_comments_and_tabs_inside_values_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "%YAML 1.1\n---\n# the web app\nservices:  # every service\n"
        "  - type: web   # public\n    name: a\n    runtime: node\t# tab before a comment\n"
        '    startCommand: "node\tserver.js"\n...\n',
    )
    ws = blueprint.load(path)
    assert ws.services[0].start_command == "node\tserver.js"
