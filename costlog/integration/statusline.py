"""`costlog statusline`: Claude Code's `statusLine` command.

Claude Code runs it after each message with a JSON object on stdin (`session_id`,
`transcript_path`, `model`, `workspace.project_dir`, `cost`) and shows the first line it
prints. It prints, for example:

    $1.23 session · $8.40 WRK-237 · $14 today · 62% of Nov budget

the session so far (read from its transcript, see `live`), the ledger's total for the
work item the branch names plus this session, the day's total, and the month's share of
`budget.monthly_usd` (the day and the month count only the part of this session whose
requests fell in them; with `budget.watch: paid` the share is of money paid, plan fees
included, as `costlog budget` counts it, and says "budget paid"). With `--window` (or
on a subscription plan, see `plan_label`) it adds the 5-hour window this session's
requests fall in: its cost and the time left.

It never fails: on any problem it prints what it could (at least `costlog: n/a`), logs
the error to `<state dir>/live.log` and exits 0. It is run as
`python -m costlog.integration.statusline` so that no click, Jinja2 or YAML is imported.
"""

from __future__ import annotations

import sys

from costlog.integration import live

TYPE_CHECKING = False
if TYPE_CHECKING:  # `typing` alone takes a third of the time budget to import
    from typing import Any

FALLBACK = "costlog: n/a"
SEP = " · "


def plan_label(summary: live.RepoSummary | None) -> str | None:
    """The subscription plan this person's Claude Code sessions run on today, by the
    config's `plans:` rules (`pricing.plans.plan_for`); None = pay as you go. On a plan
    the figures are labelled API-equivalent and the window is shown."""
    if summary is None:
        return None
    plan = summary.get("plan")
    return plan if isinstance(plan, str) and plan else None


def line(data: dict[str, Any], *, window: bool = False) -> str:
    """The status line for this stdin object."""
    transcript = data.get("transcript_path")
    parts: list[str] = []
    session_cost = None
    state = None
    summary = None
    given = data.get("workspace")
    workspace: dict[str, Any] = given if isinstance(given, dict) else {}
    start = workspace.get("project_dir") or workspace.get("current_dir") or data.get("cwd")
    root = live.find_root(start if isinstance(start, str) else None)
    if root is not None:
        try:
            summary = live.RepoSummary(root)
        except Exception as exc:  # a broken ledger must not blank the line
            live.log_error(f"statusline ledger {root}", exc)
    plan = plan_label(summary)
    suffix = " API-eq" if plan else ""
    if isinstance(transcript, str) and transcript:
        try:
            state = live.SessionState(transcript)
            state.update()
            session_cost, unpriced = state.priced(summary.get("prices_file") if summary else None)
        except Exception as exc:  # show the rest, say the session is unknown
            live.log_error(f"statusline transcript {transcript}", exc)
            state, session_cost = None, None
            parts.append("session n/a")
        else:
            parts.append(
                f"{live.money(session_cost)}{'+' if state.behind else ''}{suffix} session"
                + (f" +{unpriced} unpriced" if unpriced else "")
                + (" (still reading the transcript)" if state.behind else "")
            )
    if session_cost is None and isinstance(data.get("cost"), dict):  # Claude Code's estimate
        logged = data["cost"].get("total_cost_usd")
        if isinstance(logged, int | float) and not isinstance(logged, bool):
            session_cost = live.units(repr(logged))
            if session_cost is not None:
                parts[:] = [p for p in parts if p != "session n/a"]
                parts.append(f"{live.money(session_cost)} session (Claude Code's estimate)")
    try:
        if summary is not None:
            parts += _ledger_parts(summary, data, state, session_cost or live.ZERO, suffix)
        if (window or plan) and state is not None:
            shown = _window(state, suffix)
            if shown:
                parts.append(shown)
    except Exception as exc:  # what is there so far is still worth showing
        live.log_error("statusline", exc)
    if state is not None:
        try:
            state.save()
        except OSError as exc:  # a full or read-only state dir: read again next time
            live.log_error("statusline state", exc)
    return SEP.join(parts) if parts else FALLBACK


def _ledger_parts(
    summary: live.RepoSummary,
    data: dict[str, Any],
    state: live.SessionState | None,
    session_cost: int,
    suffix: str,
) -> list[str]:
    sid = data.get("session_id")
    me = f"claude-code/{sid}" if isinstance(sid, str) else ""
    today, month_name = live.local_today(summary.get("timezone"))
    out = []
    items = summary.items_for(state) if state is not None else []
    if items:
        item = items[0]
        out.append(f"{live.money(summary.spent(me, item=item) + session_cost)}{suffix} {item}")
    # today and the month take the part of this session that fell in them, by each
    # request's time (a session over midnight splits); without a transcript, all of it
    days = state.by_day(summary.get("timezone")) if state is not None else None
    mine_today = session_cost if days is None else days.get(today, 0)
    mine_month = (
        session_cost if days is None else sum(c for d, c in days.items() if d[:7] == today[:7])
    )
    out.append(f"{live.money(summary.spent(me, day=today) + mine_today)}{suffix} today")
    monthly = summary.get("monthly_usd")
    cap = live.units(monthly) if monthly else None
    if cap:
        paid = summary.paid_month(me, today[:7])
        if paid is not None:  # `budget.watch: paid`, the figure `costlog budget` shows
            # a session on a plan costs nothing beyond the plan's fee, already counted
            month = paid + (live.ZERO if plan_label(summary) else mine_month)
            out.append(f"{live.percent(month, cap)}% of {month_name} budget paid")
        else:
            month = summary.spent(me, month=today[:7]) + mine_month
            out.append(f"{live.percent(month, cap)}% of {month_name} budget")
    return out


def _window(state: live.SessionState, suffix: str = "") -> str | None:
    """This session's active 5-hour window (ccusage's rules, `costlog.blocks`)."""
    from datetime import UTC, datetime

    now = datetime.now(UTC)
    current = [b for b in state.windows(now) if b.active]
    if not current:
        return None
    block = current[-1]
    left = max(0, int((block.end - now).total_seconds() // 60))
    cost = live.units(format(block.cost, "f")) or 0
    return f"5h window {live.money(cost)}{suffix}, {left // 60}h{left % 60:02d}m left"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        text = line(live.read_stdin(), window="--window" in args)
    except Exception as exc:  # never fail: the agent shows whatever we print
        live.log_error("statusline", exc)
        text = FALLBACK
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
