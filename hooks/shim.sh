#!/bin/sh
# costlog-hook-shim v2: installed by `costlog init`; `costlog uninstall` removes it and puts
# back the hook that was here before (kept beside it as @HOOK@.costlog-legacy), if any.
# It runs that hook first, then costlog with the Python that installed it. It never fails
# the git command: costlog's own errors go to .git/costlog/hook.log.
hook=@HOOK@
py=@PYTHON@
case $0 in */*) here=${0%/*} ;; *) here=. ;; esac
# each commit a rebase replays: no earlier hook to run, and nothing to do until post-rewrite
# (decided before the rest of this file is even read; nothing_to_do says the same)
if [ "$hook" = post-commit ] && [ ! -x "$here/$hook.costlog-legacy" ] && [ -d .git ] &&
    [ -z "${GIT_DIR:-}" ] && { [ -e .git/rebase-merge ] || [ -e .git/rebase-apply ]; }; then
    exit 0
fi
input=
direct=
if [ "$hook" = post-rewrite ]; then
    # git's list of rewritten commits is read here only when an earlier hook needs it too;
    # else costlog reads it straight from git (no subshell, no cat)
    if [ -x "$here/$hook.costlog-legacy" ]; then input=$(cat); else direct=1; fi
fi
feed() { if [ -n "$input" ]; then printf '%s\n' "$input"; fi; }
to_costlog() { if [ -n "$direct" ]; then "$@"; else feed | "$@"; fi; }

# Whether costlog has nothing to do on this commit, decided without starting Python (a
# commit should not pay for it). Anything unsure answers "no" and Python decides, as it
# always did. costlog/integration/watch.py explains its `idle-watch` files.
nothing_to_do() {
    [ -d .git ] && [ -z "${GIT_DIR:-}" ] || return 1  # a plain checkout at its root only
    if [ "$hook" = post-merge ]; then
        [ "${1:-}" = 1 ] || return 1
        # a squash merge moves no commit: the commit that follows it checks COST_LOG.md,
        # against the branch it squashed (the newest commit SQUASH_MSG names)
        [ -f .costlog/config.yaml ] || return 0
        [ -d .git/costlog ] || return 1
        tip=
        if [ -f .git/SQUASH_MSG ]; then
            while IFS= read -r line; do
                case $line in "commit "*) tip=${line#commit }; break ;; esac
            done <.git/SQUASH_MSG
        fi
        printf '%s\n' "$tip" 2>/dev/null >.git/costlog/squash-merged
        return
    fi
    [ "$hook" = post-commit ] || return 1
    for f in rebase-merge rebase-apply MERGE_HEAD; do
        [ -e ".git/$f" ] && return 0  # costlog waits for the operation to finish
    done
    # what made this commit, as git's HEAD reflog names it: git's own picks keep
    # CHERRY_PICK_HEAD through this hook (a `git commit` removes it first)
    made=cherry-pick
    if [ ! -e .git/CHERRY_PICK_HEAD ]; then
        made=$(tail -n 1 .git/logs/HEAD 2>/dev/null) || made=
        made=${made#*"	"} # (a tab ends the sha, ident and time part of the line)
        made=${made%%": "*}
    fi
    case $made in
    cherry-pick)
        picks_settled
        return
        ;;
    "commit (cherry-pick)")
        # a pick stopped on a conflict, now committed: when it was the last (git removed
        # .git/sequencer first, and with it where the picks started), Python renders
        if [ -d .git/sequencer ] || [ ! -f .costlog/config.yaml ]; then
            picks_settled
            return
        fi
        return 1
        ;;
    revert)
        if [ -d .git/sequencer ]; then
            picks_settled
            return
        fi
        picks_settled || return 1 # one revert: then the queue, as after any commit
        ;;
    esac
    [ -f .costlog/config.yaml ] || return 0  # not set up in this repo
    s=.git/costlog
    w=$s/idle-watch
    [ ! -s "$s/queue.jsonl" ] && [ -f "$w" ] && [ -f "$w.stamp" ] || return 1
    if [ -e "$s/squash-merged" ]; then squash_settled || return 1; fi
    for f in "$s"/queue.jsonl.*.claimed; do [ -e "$f" ] && return 1; done
    [ .costlog/config.yaml -nt "$w" ] && return 1
    n=0
    minutes=
    set --
    while IFS= read -r line; do
        n=$((n + 1))
        case $n in
        1) [ "$line" = "costlog idle-watch 1" ] || return 1 ;;
        2) minutes=$line ;;
        3) [ "$line" = "${HOME:-}|${CLAUDE_CONFIG_DIR:-}|${XDG_CONFIG_HOME:-}" ] || return 1 ;;
        *)
            [ "$line" -nt "$w" ] && return 1  # a log was added or removed there
            if [ -d "$line" ]; then set -- "$@" "$line"; fi
            ;;
        esac
    done <"$w"
    [ "$n" -ge 3 ] || return 1
    [ $# -gt 0 ] || return 0
    case $minutes in '' | *[!0-9]*) return 1 ;; esac
    # a log changed since the last look (its ctime: a restored or touched mtime moves it
    # too) that has gone quiet for idle_minutes (less one, so rounding never makes it
    # later) is a session to record: Python records it
    if [ "$minutes" -gt 0 ]; then
        found=$(find "$@" -maxdepth 1 -name '*.jsonl' -cnewer "$w.stamp" -mmin +$((minutes - 1)) \
            -print 2>/dev/null) || return 1
    else
        found=$(find "$@" -maxdepth 1 -name '*.jsonl' -cnewer "$w.stamp" -print 2>/dev/null) || return 1
    fi
    [ -z "$found" ]
}

# A commit of `git cherry-pick` or `git revert` (git runs post-commit for each one; for
# several, .git/sequencer/todo lists this one and those still to do; a `git commit` that
# ends a pick stopped on a conflict counts as one): costlog waits for the last one, queue
# included, and then looks at COST_LOG.md once. The user's own commits while a pick is
# stopped are ordinary ones: the reflog says "commit: " for them. Nothing to render
# when the picks changed neither the ledger nor COST_LOG.md, or left both as they are in
# the newest picked commit (picked onto a branch whose ledger had not moved); else Python
# renders it. Only for the default ledger_dir and output (the config names neither).
picks_settled() {
    [ -f .costlog/config.yaml ] || return 0
    start=HEAD^
    if [ -d .git/sequencer ]; then
        n=0
        while IFS= read -r line; do
            case $line in '' | '#'*) continue ;; esac
            n=$((n + 1))
            [ "$n" -lt 2 ] || return 0  # more picks to come: the last one looks
        done 2>/dev/null <.git/sequencer/todo
        start=
        IFS= read -r start 2>/dev/null <.git/sequencer/head
        case $start in '' | *[!0-9a-f]*) return 1 ;; esac
    fi
    tip=
    for f in CHERRY_PICK_HEAD REVERT_HEAD; do
        if [ -f ".git/$f" ]; then IFS= read -r tip 2>/dev/null <".git/$f"; fi
    done
    case $tip in *[!0-9a-f]*) return 1 ;; esac
    grep -Eq '^[[:space:]]*(ledger_dir|output)[[:space:]]*:' .costlog/config.yaml && return 1
    git diff --quiet "$start" HEAD -- .costlog COST_LOG.md 2>/dev/null && return 0
    [ -n "$tip" ] && git diff --quiet "$tip" HEAD -- .costlog COST_LOG.md 2>/dev/null
}

# The commit of a squash merge whose ledger and COST_LOG.md are, as a whole, the squashed
# branch's or the commit's parent's: nothing for costlog to render. Only for the default
# ledger_dir and output (the config names neither).
squash_settled() {
    tip=
    IFS= read -r tip <"$s/squash-merged" || return 1
    case $tip in '' | *[!0-9a-f]*) return 1 ;; esac
    grep -Eq '^[[:space:]]*(ledger_dir|output)[[:space:]]*:' .costlog/config.yaml && return 1
    if git diff --quiet "$tip" HEAD -- .costlog COST_LOG.md 2>/dev/null ||
        git diff --quiet HEAD^ HEAD -- .costlog COST_LOG.md 2>/dev/null; then
        rm -f "$s/squash-merged"
        return 0
    fi
    return 1
}

status=0
if [ -x "$here/$hook.costlog-legacy" ]; then
    feed | "$here/$hook.costlog-legacy" "$@" || status=$?
fi
if [ "${COSTLOG_SKIP:-}" != 1 ] && ! nothing_to_do "$@"; then
    if [ -x "$py" ]; then
        to_costlog "$py" -m costlog.integration.hookrun "$hook" "$@"
    elif command -v costlog >/dev/null 2>&1; then
        to_costlog costlog hook "$hook" "$@"
    else
        echo "costlog: $py is gone; $hook hook skipped (reinstall costlog and run \`costlog init\`, or \`costlog uninstall\`)" >&2
    fi
fi
exit $status
