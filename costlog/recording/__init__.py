"""Turning an agent session into a ledger entry, and saving it.

- `builders`: one module per way a session becomes an entry (agent log, headless result,
  numbers typed by hand, commits' diffs, a hand-kept log's row);
- `attribution`: the commits and work items a session produced;
- `auto`: finding the session to record in the agents' logs (`costlog record`);
- `headless`: recording a headless run's result (`costlog record --from-json`);
- `store`: merging an entry into the ledger and writing it, with the caller's COST_LOG.md;
- `summary`: the one line printed per recorded session.

Nothing here renders COST_LOG.md: the command or hook that records passes the rendering in.
"""
