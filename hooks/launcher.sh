#!/bin/sh
# costlog-launcher: written by `costlog init` into this clone's git dir (never committed);
# `costlog uninstall` removes it. It runs the costlog of the Python that ran init here, so
# the committed agent hooks and commands stay the same on every clone.
# The opt-in status line and budget guard (`init --statusline`, `--guard`) run on every
# refresh and tool call: they start their own light modules, not the whole command line.
case "${1:-}" in
costlog.integration.statusline | costlog.integration.guard) exec @PYTHON@ -m "$@" ;;
esac
exec @PYTHON@ -m costlog "$@"
