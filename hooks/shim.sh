#!/bin/sh
# costlog-hook-shim v1: installed by `costlog init`; `costlog uninstall` removes it and puts
# back the hook that was here before (kept beside it as @HOOK@.costlog-legacy), if any.
# It runs that hook first, then costlog with the Python that installed it. It never fails
# the git command: costlog's own errors go to .git/costlog/hook.log.
hook=@HOOK@
py=@PYTHON@
here=$(dirname -- "$0")
input=
if [ "$hook" = post-rewrite ]; then input=$(cat); fi
feed() { if [ -n "$input" ]; then printf '%s\n' "$input"; fi; }
status=0
if [ -x "$here/$hook.costlog-legacy" ]; then
    feed | "$here/$hook.costlog-legacy" "$@" || status=$?
fi
if [ "${COSTLOG_SKIP:-}" != 1 ]; then
    if [ -x "$py" ]; then
        feed | "$py" -m costlog.integration.hookrun "$hook" "$@"
    elif command -v costlog >/dev/null 2>&1; then
        feed | costlog hook "$hook" "$@"
    else
        echo "costlog: $py is gone; $hook hook skipped (reinstall costlog and run \`costlog init\`, or \`costlog uninstall\`)" >&2
    fi
fi
exit $status
