"""The template: loading COST_LOG.md.j2 and rendering it safely.

A repository's template is a file anyone who can commit may change, and every commit hook
and CI job renders it. It renders in the sandbox of `sandbox` (no Python internals, no
other file, size caps on what it builds), and, where the system can fork, in a child
process of `confined` with an address-space limit, a deadline and an output cap; each
limit it breaks is one error naming the template, and nothing is written. The bundled
template is costlog's own code: it renders in-process, without caps.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from costlog import resources, safefs
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.render.sandbox import NAME, Template, environment

#: a repository's template that runs longer than this is stopped (nested loops in a
#: committed template would otherwise hang every commit hook and CI job)
TEMPLATE_SECONDS: float = 20
#: the memory a repository's template may use beyond what costlog holds when it starts
MEMORY_BUDGET = 1 << 30
#: the most a repository's template may output, in UTF-8 bytes (and any one text it builds,
#: in characters). COST_LOG.md that lists every session of a 100,000-session ledger with
#: the bundled template (`session_log_limit: 100000`) is 12.7 MB; the default one, 59 kB.
MAX_OUTPUT = 64 << 20
_HINT = "a template may only format the data it is given"


def template_path(repo: Repo, config: Config) -> Path:
    """The template: the bundled one, or `template:` from the config, a path relative to
    the repository that must stay inside it and lead through no symlink (the file is a
    repo file like any other: whoever commits it chooses what the template does)."""
    from costlog.config import CONFIG_PATH

    if not config.template:
        return resources.template()
    try:
        path = safefs.repo_path(repo.root, config.template, what="template")
        safefs.check_repo_path(repo.root, path)
    except safefs.UnsafePath as exc:
        if exc.path is not None:
            raise
        raise CostlogError(
            exc.message, path=CONFIG_PATH, hint="fix `template` in .costlog/config.yaml"
        ) from None
    if not os.path.lexists(path):
        raise CostlogError(
            "template not found",
            path=config.template,
            hint="fix `template` in .costlog/config.yaml",
        )
    return path


def load_template(repo: Repo, config: Config) -> Template:
    """The template's text, read once; a repository's through safefs (a regular file,
    no symlink on the way), the bundled one as shipped."""
    path = template_path(repo, config)
    if not config.template:
        return Template(path.read_text(encoding="utf-8"), str(path), str(path), trusted=True)
    source = safefs.read_repo_text(repo.root, path)
    if source is None:
        raise CostlogError(
            "template not found",
            path=config.template,
            hint="fix `template` in .costlog/config.yaml",
        )
    return Template(source, config.template, str(path))


def render_text(
    context: dict[str, Any], template: Template | Path, cache_dir: Path | None = None
) -> str:
    """Render the template; `cache_dir` keeps its compiled form.

    A `Path` is a trusted file, as is the bundled template `load_template` gives: rendered
    here, without caps. A repository's renders with the caps in a confined child process
    (or here under a SIGALRM bound, where there is no fork). Whatever goes wrong inside the
    template (a syntax error, an attribute the sandbox refuses, an include, a crash, a
    limit) is one CostlogError naming the template.
    """
    if isinstance(template, Path):
        source = template.read_text(encoding="utf-8")
        template = Template(source, str(template), str(template), trusted=True)
    if template.trusted:
        return _render_trusted(context, template, cache_dir)
    from costlog.render import confined

    env = environment(template, cache_dir, MAX_OUTPUT)
    if not confined.available():
        return _render_bounded(context, template, env)
    limits = confined.Limits(TEMPLATE_SECONDS, MEMORY_BUDGET, MAX_OUTPUT)
    try:
        return confined.run(lambda: _render_here(context, template, env), limits)
    except confined.Stopped as exc:
        raise _stopped(exc.reason, exc.detail, template) from None


def _render_trusted(context: dict[str, Any], template: Template, cache_dir: Path | None) -> str:
    """The bundled template: what it rendered for this very context, template and code
    when `cache_dir` holds that (`_last_render`), else rendered here and kept there. A
    `check` or `render` of an unchanged ledger then neither imports Jinja2 nor runs the
    template (~30 ms of a 10,000-session check)."""
    key = _render_key(context, template) if cache_dir is not None else None
    if key is not None and cache_dir is not None:
        kept = _last_render(cache_dir, key)
        if kept is not None:
            return kept
    try:
        text = _render_here(context, template, environment(template, cache_dir, None))
    except MemoryError:
        raise _out_of_memory(template) from None
    if key is not None and cache_dir is not None:
        _keep_render(cache_dir, key, text)
    return text


#: the file in the template cache holding the bundled template's last output, and the
#: first line of its format; then a line of the key's and the text's lengths in bytes,
#: the key, and the text (UTF-8)
_RENDERED = "last-render"
_RENDERED_MAGIC = b"costlog rendered 1\n"


def _render_key(context: dict[str, Any], template: Template) -> bytes | None:
    """Everything the output follows from, as bytes compared whole (no hash to collide):
    the context pickled (types count: a `str` prints escaped, the same text as Markdown
    as it is), the template, and the code that renders it (`_code_stamp`). None when the
    context will not pickle: then there is no cache."""
    import io
    import pickle

    out = io.BytesIO()
    pickler = pickle.Pickler(out, protocol=5)
    # no memo: an object met twice is written twice, so the bytes follow from the values
    # alone, not from which equal strings a run happened to share (a ledger read from its
    # cache shares more); a context that refers to itself then fails, and is not cached
    pickler.fast = True
    try:
        pickler.dump((template.source, template.filename, _code_stamp(), context))
    except (pickle.PicklingError, TypeError, AttributeError, ValueError, RecursionError):
        return None
    return out.getvalue()


def _code_stamp() -> tuple[object, ...]:
    """costlog's, Jinja2's and MarkupSafe's code (`costlog.codestamp`): a changed filter,
    sandbox or Jinja release never reuses an output cached before."""
    from costlog.codestamp import code_stamp

    return code_stamp(("jinja2", "markupsafe"))


def _last_render(cache_dir: Path, key: bytes) -> str | None:
    """The kept output when it was rendered from exactly `key`; None otherwise, or when
    the file is missing, cut short or not this format."""
    try:
        with open(cache_dir / _RENDERED, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    head = len(_RENDERED_MAGIC)
    if not data.startswith(_RENDERED_MAGIC):
        return None
    line_end = data.find(b"\n", head)
    sizes = data[head:line_end].split(b" ")
    if line_end < 0 or len(sizes) != 2 or not all(size.isdigit() for size in sizes):
        return None
    size, length = int(sizes[0]), int(sizes[1])
    start = line_end + 1
    if size != len(key) or len(data) != start + size + length or data[start : start + size] != key:
        return None
    try:
        return data[start + size :].decode("utf-8", "surrogatepass")
    except UnicodeDecodeError:
        return None


def _keep_render(cache_dir: Path, key: bytes, text: str) -> None:
    """Keep `text` as the output of `key`, replacing the file whole (a reader sees the
    old file or the new one); a cache that cannot be written is no error."""
    import tempfile

    body = text.encode("utf-8", "surrogatepass")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=cache_dir, prefix=f".{_RENDERED}.")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(b"%s%d %d\n" % (_RENDERED_MAGIC, len(key), len(body)))
                out.write(key)
                out.write(body)
            os.replace(temporary, cache_dir / _RENDERED)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
    except OSError:
        pass


def _render_bounded(context: dict[str, Any], template: Template, env: Any) -> str:
    """In-process, where there is no fork: the SIGALRM bound (Python code only) and the
    output cap, checked after the fact."""
    try:
        with _time_limit(TEMPLATE_SECONDS):
            text = _render_here(context, template, env)
    except _TooSlow:
        raise _stopped("time", "", template) from None
    except MemoryError:
        raise _out_of_memory(template) from None
    if len(text.encode("utf-8", "surrogatepass")) > MAX_OUTPUT:
        raise _stopped("output", "", template)
    return text


def _stopped(reason: str, detail: str, template: Template) -> CostlogError:
    """The one-line error for a limit the template broke (`confined.Stopped.reason`)."""
    if reason == "time":
        message = f"template took over {TEMPLATE_SECONDS} s to render, stopped"
    elif reason == "memory":
        message = f"template needed over {_mib(MEMORY_BUDGET)} of memory to render, stopped"
    elif reason == "output":
        message = f"template output is over {_mib(MAX_OUTPUT)}, stopped"
    else:
        message = f"template rendering failed: its process {detail}"
    return CostlogError(message, path=template.shown, hint=_HINT)


def _out_of_memory(template: Template) -> CostlogError:
    """A MemoryError in this process: the machine's memory, not a budget, ran out."""
    return CostlogError("template ran out of memory, stopped", path=template.shown, hint=_HINT)


def _mib(n: int) -> str:
    return f"{n / (1 << 20):g} MiB"


def _render_here(context: dict[str, Any], template: Template, env: Any) -> str:
    """Render in this process, every template error mapped to one CostlogError (a
    MemoryError is left to the caller, which knows what limit it hit)."""
    import jinja2
    from jinja2.exceptions import SecurityError

    from costlog.render.caps import OutputTooLarge, TooLarge

    try:
        text: str = env.get_template(NAME).render(**context)
    except jinja2.TemplateSyntaxError as exc:
        raise CostlogError(
            f"template error: {exc.message}", path=template.shown, line=exc.lineno
        ) from None
    except OutputTooLarge:
        raise _stopped("output", "", template) from None
    except (SecurityError, TooLarge) as exc:
        raise CostlogError(
            f"template refused by the sandbox: {exc}",
            path=template.shown,
            line=_line_in(exc, template),
            hint=_HINT,
        ) from None
    except jinja2.TemplateNotFound as exc:
        raise CostlogError(
            f"template may not include or extend another file ({exc.name!r})",
            path=template.shown,
            line=_line_in(exc, template),
        ) from None
    except jinja2.UndefinedError as exc:
        raise CostlogError(
            f"template error: {exc.message}", path=template.shown, line=_line_in(exc, template)
        ) from None
    except (
        jinja2.TemplateError,
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        AttributeError,
        RecursionError,
    ) as exc:
        raise CostlogError(
            f"template error: {type(exc).__name__}: {exc}",
            path=template.shown,
            line=_line_in(exc, template),
        ) from None
    return text


class _TooSlow(Exception):
    pass


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Raise _TooSlow in the block after `seconds` (main thread only; elsewhere no limit)."""
    import signal
    import threading

    if (
        seconds is None
        or threading.current_thread() is not threading.main_thread()
        or not hasattr(signal, "setitimer")
    ):
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _line_in(exc: BaseException, template: Template) -> int | None:
    """The template line an error was raised at (Jinja maps its frames to template lines)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == template.filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
