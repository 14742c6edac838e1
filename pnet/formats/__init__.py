"""How a report is written out: the doctor's text and its JSON contract, the CI formats
(GitHub workflow commands, SARIF, JUnit) and the map (Mermaid, DOT)."""

from __future__ import annotations

from pnet.formats.contract import render_json
from pnet.formats.dispatch import FORMATS, Options, render
from pnet.formats.text import Style, render_text, summary_line

__all__ = ["FORMATS", "Options", "Style", "render", "render_json", "render_text", "summary_line"]
