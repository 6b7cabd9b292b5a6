"""A committed template may not exhaust memory, disk or time: the sandbox's caps refuse
oversized operations up front, and a repository's template renders in a forked child with
an address-space limit, a deadline and an output cap. Each limit is a one-line error
naming the template; COST_LOG.md is left as it was and no big file appears."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from costlog import config as config_module
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.ledger.store import Ledger
from costlog.pricing.table import PriceTable
from costlog.render import caps, confined, template
from costlog.render.context import build_context
from costlog.render.sandbox import Template, environment
from tests_support import git, run

#: kills, forks and memory limits: long-running by nature (the full suite runs them)
pytestmark = pytest.mark.slow

needs_fork = pytest.mark.skipif(not confined.available(), reason="no os.fork here")
needs_proc = pytest.mark.skipif(
    not Path("/proc/self/statm").exists(), reason="RLIMIT_AS needs /proc/self/statm"
)


def init_repo(root: Path) -> None:
    run("init")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Set up costlog")


def use_template(root: Path, name: str, text: str) -> None:
    (root / name).write_text(text)
    config = root / ".costlog" / "config.yaml"
    if f"\ntemplate: {name}\n" not in config.read_text():
        with open(config, "a") as handle:
            handle.write(f"template: {name}\n")


def largest_file(root: Path) -> int:
    """The size of the biggest file anywhere under `root` (.git included)."""
    sizes = [0]
    for folder, _, names in os.walk(root):
        sizes += [os.lstat(os.path.join(folder, name)).st_size for name in names]
    return max(sizes)


def refused(repo: Path, body: str) -> str:
    """Render `body` as the repository's template: the one-line error it gives, after
    checking that COST_LOG.md is unchanged and no big file was written."""
    before = (repo / "COST_LOG.md").read_bytes()
    use_template(repo, "big.j2", body)
    started = time.monotonic()
    out = run("render", code=1)
    assert time.monotonic() - started < 2, out
    assert out.startswith("costlog: error: big.j2"), out
    assert len(out.strip().splitlines()) == 1, out
    assert (repo / "COST_LOG.md").read_bytes() == before
    assert largest_file(repo) < 1 << 20
    return out


# ---------------------------------------------------------------- caps in the sandbox

BIG = "4000000000"


@pytest.mark.parametrize(
    "body, message",
    [
        # the reviewer's payloads
        (f'{{{{ "x"|center({BIG}) }}}}', "a text of that size"),
        (f'{{{{ "%0{BIG}d"|format(1) }}}}', "a format of that size"),
        # the same through operators and str methods
        (f'{{{{ "%0{BIG}d" % 1 }}}}', "a format of that size"),
        (f'{{{{ "%0*d" % ({BIG}, 1) }}}}', "a format of that size"),
        (f'{{{{ "{{:>{BIG}}}".format(1) }}}}', "a format of that size"),
        (f'{{{{ "x".center({BIG}) }}}}', "a text of that size"),
        (f'{{{{ "x".zfill({BIG}) }}}}', "a text of that size"),
        ('{{ ("\t"*9999999).expandtabs(400) }}', "a text of that size"),
        ('{{ ("\t"*9999999).expandtabs(tabsize=400) }}', "a text of that size"),
        ('{{ ("x"*9999999).translate({120: "y"*400}) }}', "a text of that size"),
        ('{{ ("x"*9999999).replace("x", "y"*400) }}', "a text of that size"),
        ('{{ ("x"*99).join(["y"*9999999]*7) }}', "a product of that size"),
        # `~` and `+` doubling in a loop
        (
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
            "a text of that size",
        ),
        (
            '{% set ns = namespace(s="x") %}{% for i in range(40) %}'
            "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
            "a text of that size",
        ),
        # the filters that grow a text
        ('{{ ("x"*9999999)|replace("x", "xxxxxxxxxx") }}', "a text of that size"),
        (f'{{{{ "x"|indent({BIG}) }}}}', "a text of that size"),
        ('{{ ("x\\n"*4999999)|indent(100) }}', "a text of that size"),
        ('{{ ("x "*4999999)|wordwrap(2, wrapstring="y"*40) }}', "a text of that size"),
        ('{% set a = "x"*9999999 %}{{ [a, a, a, a, a, a, a]|join }}', "a text of that size"),
        ("{{ [1]|batch(4000000000, 0)|list }}", "a batch of that size"),
        ("{{ [1]|slice(4000000000)|list }}", "a slice count of that size"),
        # products of lists, and numbers
        ('{{ (["x"*9999999]*100)|string }}', "a product of that size"),
        ("{{ (10**4096)**4096 }}", "a power of that size"),
        (
            "{% set ns = namespace(n=10**4000) %}{% for i in range(30) %}"
            "{% set ns.n = ns.n * ns.n %}{% endfor %}{{ ns.n > 0 }}",
            "a number of that size",
        ),
    ],
)
def test_oversized_operations_are_refused_before_they_run(
    repo: Path, body: str, message: str
) -> None:
    init_repo(repo)
    out = refused(repo, body + "\n")
    assert out.startswith("costlog: error: big.j2:1: template refused by the sandbox: "), out
    assert message in out


def test_the_reviewers_3_gb_loop_stops_at_the_output_cap(repo: Path) -> None:
    """`{% for i in range(300) %}{{ ("x"*9999999)|safe }}{% endfor %}` wrote 3.0 GB."""
    init_repo(repo)
    out = refused(repo, '{% for i in range(300) %}{{ ("x"*9999999)|safe }}{% endfor %}\n')
    assert "big.j2: template output is over 64 MiB, stopped" in out


def test_a_captured_block_counts_against_the_output_cap(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_repo(repo)
    monkeypatch.setattr(template, "MAX_OUTPUT", 1 << 20)
    out = refused(
        repo,
        '{% set rows %}{% for i in range(300) %}{{ "x" * 9999 }}{% endfor %}{% endset %}'
        "{{ rows|length }}\n",
    )
    assert "big.j2: template output is over 1 MiB, stopped" in out


# ---------------------------------------------------------------- limits of the child


@needs_fork
def test_output_over_the_cap_in_bytes_is_refused_by_the_child(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under the cap in characters, over it in UTF-8 bytes: the child sends nothing."""
    init_repo(repo)
    monkeypatch.setattr(template, "MAX_OUTPUT", 1 << 20)
    out = refused(repo, '{% for i in range(5) %}{{ ("é" * 200000)|safe }}{% endfor %}\n')
    assert "big.j2: template output is over 1 MiB, stopped" in out


@needs_fork
@needs_proc
def test_memory_past_the_budget_stops_the_child(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A list nested into itself 14 times prints as 16 GB: no cap sees it, RLIMIT_AS does."""
    init_repo(repo)
    monkeypatch.setattr(template, "MEMORY_BUDGET", 64 << 20)
    out = refused(
        repo,
        '{% set ns = namespace(l=["x" * 1000000]) %}{% for i in range(14) %}'
        "{% set ns.l = [ns.l, ns.l] %}{% endfor %}{{ ns.l|string|length }}\n",
    )
    assert "big.j2: template needed over 64 MiB of memory to render, stopped" in out


@needs_fork
def test_c_code_past_the_deadline_is_killed_and_reaped(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`(10**4096)**4096` is 13 s of C that SIGALRM never interrupts (caps lifted here to
    reach it): the parent kills the child at the deadline and reaps it."""
    init_repo(repo)
    monkeypatch.setattr(template, "TEMPLATE_SECONDS", 0.5)
    monkeypatch.setattr(caps, "MAX_INT_BITS", 10**9)
    monkeypatch.setattr(caps, "MAX_EXPONENT", 10**9)
    children: list[int] = []
    fork = os.fork

    def spy() -> int:
        pid = fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", spy)
    out = refused(repo, "{{ ((10**4096)**4096) > 0 }}\n")
    assert "big.j2: template took over 0.5 s to render, stopped" in out
    assert len(children) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(children[0], os.WNOHANG)  # already reaped


def test_without_fork_the_in_process_bounds_apply(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where there is no fork (Windows), the SIGALRM bound, the caps and the output cap
    still hold, in-process."""
    init_repo(repo)
    monkeypatch.setattr(confined, "available", lambda: False)
    monkeypatch.setattr(template, "TEMPLATE_SECONDS", 0.5)
    monkeypatch.setattr(template, "MAX_OUTPUT", 1 << 20)
    out = refused(repo, '{{ "x"|center(4000000000) }}\n')
    assert "big.j2:1: template refused by the sandbox: a text of that size" in out
    out = refused(repo, '{% for i in range(5) %}{{ ("é" * 200000)|safe }}{% endfor %}\n')
    assert "big.j2: template output is over 1 MiB, stopped" in out
    out = refused(
        repo, "{% for a in range(99999) %}{% for b in range(99999) %}{% endfor %}{% endfor %}\n"
    )
    assert "big.j2: template took over 0.5 s to render, stopped" in out


LIMITS = confined.Limits(seconds=5, memory=1 << 30, output=1 << 20)


@needs_fork
def test_what_the_child_raises_comes_back_as_data() -> None:
    def os_error() -> str:
        raise FileNotFoundError(2, "No such file or directory", "/gone/x")

    def bug() -> str:
        raise KeyError("oops")

    def dies() -> str:
        os.kill(os.getpid(), signal.SIGTERM)
        return "never"

    assert confined.run(lambda: "é\ud800 ok", LIMITS) == "é\ud800 ok"
    with pytest.raises(FileNotFoundError) as missing:
        confined.run(os_error, LIMITS)
    assert (missing.value.errno, missing.value.filename) == (2, "/gone/x")
    with pytest.raises(RuntimeError, match="KeyError: 'oops'"):
        confined.run(bug, LIMITS)
    with pytest.raises(confined.Stopped) as stopped:
        confined.run(dies, LIMITS)
    assert (stopped.value.reason, stopped.value.detail) == ("died", "was killed by SIGTERM")
    with pytest.raises(confined.Stopped) as stopped:
        confined.run(lambda: "x" * (2 << 20), LIMITS)
    assert stopped.value.reason == "output"


# ---------------------------------------------------------------- same result, same errors

RICH = textwrap.dedent(
    """\
    <!-- costlog:begin summary -->
    {{ totals.sessions }} sessions, {{ totals.cost | usd }}; {{ "%-6s|%5.1f" % ("ab", 2.25) }}
    {{ "é ☃ " ~ price_table ~ " " ~ totals.sessions }} {{ ("ab" * 3) + "!" }} {{ 2 ** 10 }}
    {{ "mid"|center(11) }}|{{ "a\\nb"|indent(2, first=True) }}|{{ "one two three"|wordwrap(5) }}
    {{ "%s-%s"|format(1, 2) }} {{ "x.y"|replace(".", "::") }} {{ "{:>6}|{:.2f}".format("x", 1.5) }}
    {{ sessions|map(attribute="agent")|join(", ") }} {{ "long text here"|truncate(9) }}
    {% for row in sessions|batch(2, "-") %}[{{ row|length }}]{% endfor %}
    {% for col in sessions|slice(2) %}<{{ col|length }}>{% endfor %}
    {{ "ab".ljust(4) }}|{{ "\\tx".expandtabs(4) }}|{{ "-".join(["a", "b"]) }}
    {{ "ab".translate({97: "A"}) }}
    {% macro cell(s) %}| {{ s.id | short }} | {{ s | session_cost }} | {{ s.notes | cell }} |
    {%- endmacro %}
    {% set rows %}{% for s in sessions %}{{ cell(s) }}
    {% endfor %}{% endset %}{{ rows | safe }}
    <!-- costlog:end summary -->
    """
)


def _context(repo: Path) -> dict[str, object]:
    config = config_module.load(repo)
    entries = Ledger(Repo(repo, repo / ".git"), config.ledger_dir).load_all()
    table = PriceTable.load(config.prices_path(repo))
    return build_context(entries, config, price_table=table.version, table=table)


def test_a_normal_template_renders_byte_identically_in_the_child(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_repo(repo)
    for n, notes in enumerate(["plain", "ünïcode ☃ [x](y)", "tab\there"]):
        run("record", "--model", "claude-sonnet-4-6", "--cost", f"0.{n + 1}", "--notes", notes)
    use_template(repo, "rich.j2", RICH)
    context = _context(repo)
    mine = Template(RICH, "rich.j2", str(repo / "rich.j2"))

    here = template._render_here(context, mine, environment(mine, None, None))  # no caps
    assert "3 sessions" in here and "ünïcode" in here
    assert template.render_text(context, mine) == here  # the child, with caps
    cache = repo / ".git" / "costlog" / "template-cache"
    assert template.render_text(context, mine, cache) == here  # compiled, then cached
    assert template.render_text(context, mine, cache) == here
    run("render")
    assert here in (repo / "COST_LOG.md").read_text()
    monkeypatch.setattr(confined, "available", lambda: False)
    assert template.render_text(context, mine) == here  # in-process fallback


@pytest.mark.parametrize(
    "body",
    [
        "line\n{% for x in %}\n",
        "line\n{{ ''.__class__.__mro__ }}\n",
        "line\n{{ 1 / 0 }}\n",
        "line\n{{ nothing.here }}\n",
        'line\n{% include "other.j2" %}\n',
    ],
)
def test_the_child_gives_exactly_the_in_process_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch, body: str
) -> None:
    init_repo(repo)
    mine = Template(body, "mine.j2", str(repo / "mine.j2"))
    context = _context(repo)
    with pytest.raises(CostlogError) as child:
        template.render_text(context, mine)
    monkeypatch.setattr(confined, "available", lambda: False)
    with pytest.raises(CostlogError) as here:
        template.render_text(context, mine)
    assert child.value.one_line() == here.value.one_line()
    assert child.value.one_line().startswith("mine.j2:2: ")
    assert child.value.exit_code == 1


def test_the_bundled_template_renders_in_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    init_repo(repo)

    def no_fork(*args: object) -> str:
        raise AssertionError("the bundled template must not fork")

    monkeypatch.setattr(confined, "run", no_fork)
    run("record", "--model", "claude-sonnet-4-6", "--cost", "0.5")
    run("render")
    run("check")


# ---------------------------------------------------------------- the child leaves no trace

CHILD_SCRIPT = """
import atexit, sys
from pathlib import Path
from costlog.errors import CostlogError
from costlog.render import template
from costlog.render.sandbox import Template

marks = Path(sys.argv[1])
atexit.register(lambda: marks.open("a").write("atexit\\n"))
sys.stdout.write("pending;")  # stdout is a pipe: this stays in the buffer across the forks
template.TEMPLATE_SECONDS = 0.5
for body in ["{{ 6 * 7 }}", "{{ 1 / 0 }}", "{% for a in range(99999) %}{% for b in range(99999)"
             " %}{% endfor %}{% endfor %}"]:
    try:
        sys.stdout.write(template.render_text({}, Template(body, "t.j2", "/t.j2")) + ";")
    except CostlogError as exc:
        sys.stdout.write(exc.message.split(":")[0] + ";")
"""


@needs_fork
def test_the_child_runs_no_atexit_handler_and_flushes_no_buffer(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    done = subprocess.run(
        [sys.executable, "-c", CHILD_SCRIPT, str(marks)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert done.stdout == (
        "pending;42;template error;template took over 0.5 s to render, stopped;"
    ), done.stdout
    assert done.stderr == ""
    assert marks.read_text() == "atexit\n"


@needs_fork
def test_the_child_leaves_the_callers_lock_held(repo: Path) -> None:
    """The child shares the parent's flock (one open file): it must never unlock it, as a
    `finally` of the caller's frames would if the child returned into them."""
    init_repo(repo)
    ledger = Ledger(Repo(repo, repo / ".git"), ".costlog/sessions")
    probe = (
        "import fcntl, sys\n"
        "with open(sys.argv[1], 'a+b') as f:\n"
        "    try:\n"
        "        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)\n"
        "    except BlockingIOError:\n"
        "        print('held')\n"
        "    else:\n"
        "        print('free')\n"
    )
    lock_file = str(repo / ".git" / "costlog" / "ledger.lock")

    def state() -> str:
        args = [sys.executable, "-c", probe, lock_file]
        return subprocess.run(args, capture_output=True, text=True, check=True).stdout.strip()

    with ledger.lock():
        assert template.render_text({}, Template("ok", "t.j2", "/t.j2")) == "ok"
        with pytest.raises(CostlogError):
            template.render_text({}, Template("{{ 1 / 0 }}", "t.j2", "/t.j2"))
        assert state() == "held"
    assert state() == "free"
