"""The explorer page's HTML, CSS and script (no external resource of any kind).

:func:`page_html` embeds the data of :func:`~infogan_kit.viz.explorer.explorer_html` as JSON
(``<script type="application/json" id="explorer-data">``); the script builds the page from it.
Every control is a native keyboard control (range inputs, radio buttons) or a focusable grid
that moves with the arrow keys. The main canvas of run ``r`` (``#frame-r``) carries
``data-codes`` (the code values it shows, JSON) and ``data-draws`` (a count of finished draws)
so tests can read back what is displayed.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .explorer_script import SCRIPT

STYLE = """body{font-family:sans-serif;margin:1.5em;color:#222}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.5em}
.runs{display:grid;gap:1em}.card{border:1px solid #ccc;padding:.6em;border-radius:4px}
canvas.frame{width:192px;height:192px;image-rendering:pixelated;border:1px solid #999;background:#000}
canvas.pair{width:min(100%,352px);image-rendering:pixelated;border:1px solid #999}
canvas.thumb{width:32px;height:32px;image-rendering:pixelated;vertical-align:middle;margin:0 2px}
table{border-collapse:collapse;margin:.4em 0}th,td{border:1px solid #ccc;padding:3px 6px;font-size:13px;text-align:left}
th{background:#eee}.slider{display:flex;align-items:center;gap:.4em;margin:2px 0}.slider span.name{width:4.5em}
.inactive{color:#999}output{font-family:monospace;font-size:12px;min-width:7em}
:focus-visible{outline:3px solid #f80;outline-offset:1px}.caption{font-family:monospace;font-size:12px}
fieldset{border:1px solid #ccc}.best{outline:2px solid #222}.muted{color:#777;font-size:12px}"""


def json_for_script(data: Any) -> str:
    """``data`` as JSON that cannot close its ``<script>`` element."""
    return json.dumps(data, separators=(",", ":")).replace("</", "<\\/")


def page_html(data: dict[str, Any]) -> str:
    """The complete page of ``data`` (``meta``, ``factors``, ``runs``, ``rows``)."""
    meta = data["meta"]
    labels = ", ".join(run["label"] for run in data["runs"])
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f'<meta name="infogan-explorer" content="{html.escape(json.dumps(meta))}">',
        f'<meta name="infogan-batch-size" content="{int(meta["batch_size"])}">',
        f"<title>infogan explore: {html.escape(labels)}</title>", f"<style>{STYLE}</style></head><body>",
        f"<h1>Code explorer: {html.escape(labels)}</h1>",
        '<p class="muted">Move a slider (arrow keys once focused) to sweep one code from the base sample; the pair grid '
        "moves two codes together (focus it, then arrow keys). Sliders in one row match the same ground-truth factor "
        "(highest MI/H).</p>",
        '<fieldset id="bases"><legend>Base sample</legend></fieldset>',
        '<div class="runs" id="runs"></div>', "<h2>Codes, paired by factor</h2>", '<table id="sliders"></table>',
        "<h2>MI/H of each code with each factor</h2>", '<div class="runs" id="heatmaps"></div>',
        "<h2>Scores (metrics.json)</h2>", '<div class="runs" id="scores"></div>',
        f'<p class="muted" id="meta">{html.escape(meta["generator"])}; created {html.escape(meta["created"])}; '
        f'device {html.escape(meta["device"])}, batch size {int(meta["batch_size"])}; seed {int(meta["seed"])}; '
        f'MI/H on {int(meta["mi_samples"])} {html.escape(meta["dataset"])} images.</p>',
        f'<script type="application/json" id="explorer-data">{json_for_script(data)}</script>',
        f"<script>{SCRIPT}</script>", "</body></html>",
    ]) + "\n"
