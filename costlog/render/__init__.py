"""COST_LOG.md: the ledger's analysis rendered through a sandboxed Jinja2 template.

The flow, by module: `context` turns the analysis into the plain data the template
receives; `template` loads the template and renders it in the sandbox of `sandbox` (size
caps in `caps`; a repository's template in a confined child process, `confined`), its
values escaped by `escape` and formatted by `filters`; `blocks` splices the generated
blocks into the existing file, keeping all hand-written text; `output` reads, writes and
checks the file.

Callers use this package's names (`render.render(repo, config)`, `render.md(text)`).
"""

from costlog.render.blocks import has_blocks, resolve_conflicts, splice, split_blocks
from costlog.render.context import ANOMALY_ROWS, build_context, jsonable
from costlog.render.escape import code, md
from costlog.render.filters import cell, session_cost, spend_cost, tokens, usd, work_items
from costlog.render.output import Rendered, check, context_json, document, render
from costlog.render.template import load_template, render_text

__all__ = [
    "ANOMALY_ROWS",
    "Rendered",
    "build_context",
    "cell",
    "check",
    "code",
    "context_json",
    "document",
    "has_blocks",
    "jsonable",
    "load_template",
    "md",
    "render",
    "render_text",
    "resolve_conflicts",
    "session_cost",
    "spend_cost",
    "splice",
    "split_blocks",
    "tokens",
    "usd",
    "work_items",
]
