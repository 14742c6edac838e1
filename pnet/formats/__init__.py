"""How a report is written out: the doctor's text and its JSON contract."""

from __future__ import annotations

from pnet.formats.contract import render_json
from pnet.formats.text import Style, render_text, summary_line

__all__ = ["Style", "render_json", "render_text", "summary_line"]
