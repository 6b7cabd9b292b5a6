"""One module per command: the plain functions the command line (costlog.cli) calls.

They take the repo and config (`context`), do the work through the packages below, and
return results or text; they never import click and print nothing themselves (`record`
reports through the callbacks it is given). A few modules hold a command's helpers:
`backfill_state` and `backfill_report` for `backfill`, `classic_log` and `classic_rewrite`
for `import`, `factors` for the factors `reconcile` and `calibrate` store in the config.
"""
