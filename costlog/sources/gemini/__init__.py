"""Gemini CLI: read `~/.gemini/tmp/<project>/chats/session-*.jsonl` (and legacy `.json`).

The chat recording is a log of changes, and the rules applied follow how Gemini CLI itself
reads it back (its chat recording service):

* **Records.** Line 1 is metadata (`sessionId`, `projectHash`, `startTime`, `kind`). Later
  lines are whole messages, re-appended each time a message changes (same `id`: **the last
  one wins**), `{"$set": {...}}` metadata updates (which may carry a whole `messages`
  list), and `{"$rewindTo": id}` truncations.
* **Rewound calls still count.** `/rewind` hides messages from the conversation, but those
  API calls were made and billed, so every `gemini` message ever written is counted once.
* **One request per `gemini` message with `tokens`.** Gemini's `promptTokenCount`
  (`tokens.input`) includes the cached part (`tokens.cached`), so `input = input - cached`
  and cached goes to `cache_read`. Thinking tokens (`tokens.thoughts`) are billed as output
  and are *not* in `tokens.output`, so `output = output + thoughts` and `reasoning =
  thoughts`. Tool-use prompt tokens (`tokens.tool`) are outside `input` and billed as
  input, so they are added to `input`. A message without `tokens` counts nothing.
* **Messages are counted once across files.** A legacy `.json` chat is copied whole into a
  new `.jsonl` when resumed, and the old file stays; a message id belongs to the
  earliest-started session that holds it.
* **Sub-agents roll up.** `chats/<parent session id>/<id>.jsonl` (`kind: "subagent"`) is
  read into the parent session (requests marked `subagent`, counted in `subagents`) when
  the parent is present.
* **Project directory.** The chats do not log the cwd. `<project>` is a slug whose owner is
  written in `<project>/.project_root` and in `~/.gemini/projects.json`; older directories
  are named by `sha256(project root)`, as is `projectHash`, so the root is recovered by
  hashing known paths (the registry's and the `--project` being scanned).
* **Robust reading.** `.jsonl` files are streamed line by line; a corrupt or truncated
  line, or a token count that is negative, fractional, not a number or absurdly large, is
  reported as `path:line: reason` and skipped. Legacy `.json` files are one JSON document
  and are read whole.
* **Locations.** `GEMINI_DATA_DIR` (ccusage's override) if set, else
  `$GEMINI_CLI_HOME/.gemini/tmp` (Gemini CLI's own override of the home), else
  `~/.gemini/tmp`.

The modules: `projects` finds the chat files and their project roots, `chat` reads one
file, `sessions` counts each message once and rolls sub-agents up, `adapter` ties them.
"""
