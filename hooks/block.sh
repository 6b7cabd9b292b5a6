# >>> costlog @HOOK@ (added by `costlog init`; `costlog uninstall` removes this block)
if [ "${COSTLOG_SKIP:-}" != 1 ]; then
  if [ -x @PYTHON@ ]; then @PYTHON@ -m costlog.integration.hookrun @HOOK@ "$@" || true
  elif command -v costlog >/dev/null 2>&1; then costlog hook @HOOK@ "$@" || true
  else echo "costlog: costlog is not installed; @HOOK@ hook skipped" >&2
  fi
fi
# <<< costlog @HOOK@
