"""The ways a session becomes a ledger entry, one module each.

- `session`: a session read from an agent's own log, priced request by request and linked
  to its commits and work items;
- `headless`: the result JSON a headless agent run prints (`claude -p`);
- `manual`: numbers a person typed, or the estimation guide's price per task;
- `diffs`: an agent without logs, estimated from the commits it produced;
- `imported`: a row of a hand-kept cost log.

They only build the entry: `recording.store` merges it into the ledger and writes it.
"""
