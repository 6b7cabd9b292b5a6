#!/bin/sh
# costlog-end-session: written by `costlog init`; `costlog uninstall` removes it.
# Committed, so it names no path of any one machine: it runs this clone's costlog (the
# launcher `costlog init` wrote into the git dir), else a `costlog` on PATH, else says how
# to set it up and exits 0, so an agent is never blocked by a clone without costlog.
c="$(git rev-parse --git-common-dir 2>/dev/null)/costlog/bin/costlog"
if [ -x "$c" ]; then exec "$c" "$@"; fi
if command -v costlog >/dev/null 2>&1; then exec costlog "$@"; fi
echo "costlog is not set up in this clone: run \`costlog init\`"
exit 0
