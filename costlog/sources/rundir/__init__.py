"""Run directories of a home-grown agent runner (`--agent rundir`).

A runner that drives a builder model and a reviewer model over a work order typically
leaves, per run (the layout is configurable under `rundir:` in `.costlog/config.yaml`):

    .system/runs/<run-id>/run.log                  model names, `Builder iteration N` /
                                                   `Reviewer iteration N` markers, timestamps
    .system/runs/<run-id>/builder/iter-N/result.json   summary, changes, maybe `usage`
    .system/runs/<run-id>/reviewer/iter-N/*.json       verdict / feedback, maybe `usage`
    work_orders/<WO-id>.md                          the work order the run was given

Each run is one session `rundir/<run-id>`; each builder and reviewer iteration is one
request. Its work item is the work-order id (such as `WO-2026-110`), found in run.log,
the path of the work order, or the run id. The work order is the first existing `*.md`
path run.log names on a line about the work order (or whose name holds the id), relative
to the repo root or the run, else the first match of the `rundir.work_orders` globs
(`{wo}` = the id).

Where an iteration's JSON carries usage (`usage: {input_tokens, output_tokens, ...}` in
Anthropic or OpenAI Responses shape, `{prompt_tokens, completion_tokens}`, or Codex's
`cached_input_tokens`), it is used as is and marked `actual`. Otherwise the iteration is
**estimated** the way such runners estimate their own spend: every count of text made
with the fitted character heuristic (about 4 % off per sample), every parameter in the
config, and the arithmetic written into the entry's `methods`:

* builder input = work-order tokens + constitution (1793) + builder system prompt (2000)
  + (iteration - 1) x (test output 1000 + reviewer feedback 500);
* reviewer input = work-order tokens + diff tokens + constitution (1793) + reviewer
  system prompt (2000); the diff is a `*.diff` / `*.patch` file in the reviewer's or the
  builder's iteration directory, else the `git log -p` of the commits made during the
  builder iteration of the same number;
* builder output = (tokens of `summary` + tokens of `json.dumps(changes)`) x 10
  (a result summary is about a tenth of what the model wrote);
* reviewer output = tokens of its recorded verdict/feedback x 1.

Models come from run.log (`model: X`, `model=X`, `--model X`; on a marker line for that
iteration, on a `builder`/`reviewer` line for that role, else for the iteration in
progress), else `rundir.builder_model` / `reviewer_model`, else the iteration is left
unpriced (never a silent $0). Timestamps are the markers' (naive ones are UTC), else the
result file's mtime. Estimates are directional: check them against the provider's bill
with `costlog reconcile`, or fit them with `calibrate`. Only counts, ids, model names and
times leave this package; work-order text, summaries and diffs are counted in memory and
never stored.

The modules: `runlog` reads run.log and finds the iteration files, `workorders` finds a
run's work order, `estimates` estimates an iteration without usage, `session` turns one
run into a Session, `adapter` finds the runs and the settings that apply to them.
"""

AGENT = "rundir"
