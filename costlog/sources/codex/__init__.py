"""Codex CLI: read `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-*.jsonl` (and `archived_sessions/`).

Each rollout line is `{"timestamp", "type", "payload"}`. The rules applied, and why:

* **One request per `token_count` event.** `event_msg` lines with `payload.type ==
  "token_count"` carry `info.last_token_usage` (that call) and `info.total_token_usage`
  (running total). We take `last_token_usage`; rows that only carry the running total
  count the step from the previous total in the same file. `info: null` rows (rate-limit
  updates) and all-zero steps count nothing.
* **Re-emitted events are counted once.** Codex writes the same `token_count` again (same
  total, same last call) after some turns; an event is identified by its token numbers
  (running total + last call), so a repeat is dropped.
* **Forked sessions do not bill the parent twice.** A fork (`/fork`, or a sub-agent spawned
  with the parent's history) starts by re-writing the parent's rollout lines into the new
  file with *new* timestamps, so timestamps cannot tell them apart. The token numbers can:
  a replayed event has the parent's running total and last call. Each event belongs to
  the earliest-started session that holds it; the fork keeps only its own calls. The same
  rule drops replayed tool calls and prompts, so commits and the first prompt stay with
  the session that made them.
* **Sub-agents roll up.** A rollout whose `session_meta.source.subagent.thread_spawn` names
  a parent thread is read into that parent session (requests marked `subagent`, counted in
  `subagents`) when the parent's file is present; otherwise it stands alone.
* **OpenAI usage semantics.** `input_tokens` includes `cached_input_tokens` (and a newer
  `cache_write_input_tokens`), so `input = input - cached - cache_write`, cached goes to
  `cache_read`. `output_tokens` already includes `reasoning_output_tokens` (billed as
  output); `reasoning` is informational.
* **Model** from `info.model` on the event, else the latest `turn_context.model`, else
  `session_meta.model`; a log naming none (Sept 2025 builds) is priced as `gpt-5`, the
  default then, and the session says so in `methods`.
* **Identity.** The session id is `session_meta.id` (the uuid in the file name, also the
  `CODEX_THREAD_ID`); files without a `session_meta` use the uuid or stem of the file name.
  cwd and branch come from `session_meta` (`cwd`, `git.branch`). The same relative path in
  `sessions/` and `archived_sessions/` is read once, from `sessions/`.
* **Robust reading.** Files are streamed line by line. A corrupt or truncated line, or a
  count that is negative, fractional, not a number or absurdly large, is reported as
  `path:line: reason` and skipped; the rest of the file still counts. A file whose first
  record is not a rollout line (a Claude transcript, saved `codex exec --json` output) is
  skipped with one warning.
* **Incremental cache** (`costlog.sources.cache`). Per file it keeps the per-call counts,
  event keys, models, timestamps, cwd, branch and where reading stopped; an unchanged file
  is not opened, a grown one is read from that offset. Prompts, edited paths and commit
  refs (`first_prompt`, `edited_files`, `tool_output_refs`) are never cached: they are
  filled when a file is given as a root, by `find_session`, or with `use_cache=False`.
  The cache keeps a file's calls as one marshal blob, and an unchanged file's calls are
  built into objects only when its family is read: a long history's calls are never all
  in memory as objects at once.
* **Speed of a cold scan.** The files to read whole are read by worker processes
  (`COSTLOG_SCAN_WORKERS`), in the order their families are worked out, while the main
  process turns the files already read into sessions. A block of lines is decoded in one
  msgspec call that checks every line; the records only their time is wanted from (most
  of the bytes) are told apart in one pass and their times checked together, falling back
  to one record at a time (same warnings, same order) when any of them is odd.

The modules, in the order data flows through them: `discovery` finds the files,
`rollout` holds one file's head and cached facts, `reader` reads its lines, `sessions`
assigns each fact to one session and rolls sub-agents up, `adapter` drives it all through
the cache.
"""
