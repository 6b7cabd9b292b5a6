"""Claude Code: its transcripts read into sessions (`adapter` has the map of the reader),
OpenTelemetry events and `~/.claude.json` totals that correct them (`enrich`), and which
of a repo's transcripts went idle (`idle`, for the post-commit hook).

Kept empty of imports: the post-commit hook imports `idle` and `paths` on every commit and
must not pay for the reader.
"""
