"""The template and its sandbox: loading COST_LOG.md.j2 and rendering it safely.

A repository's template is a file anyone who can commit may change, and every commit hook
and CI job renders it. So it runs in Jinja2's immutable sandbox, may read no other file,
cannot build huge strings or numbers, and is stopped after TEMPLATE_SECONDS. Every value
it prints passes the output hook (`_finalize`), which escapes anything that is not already
Markdown. Jinja2 is imported on first use: commands that never render don't pay for it.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costlog import resources, safefs
from costlog.config import Config
from costlog.errors import CostlogError
from costlog.gitrepo import Repo
from costlog.render.escape import Markdown, is_plain, md
from costlog.render.filters import FILTERS


@dataclass(frozen=True)
class Template:
    source: str
    #: how messages name it: the path from the config, or the bundled file
    shown: str
    #: the absolute path (Jinja's tracebacks, the bytecode cache key)
    filename: str


#: a product can never be longer than this (`"x" * 10**10` in a template)
_MAX_PRODUCT = 10_000_000
#: bumped whenever the compiled form of a template would change (sandbox, output hook)
_CACHE_SALT = "sandboxed-1"
#: a repository's template that runs longer than this is stopped (nested loops in a
#: committed template would otherwise hang every commit hook and CI job)
TEMPLATE_SECONDS = 20
#: printed as they are by the output hook: Markdown, and markupsafe's Markup (`| safe`)
_PRINTED_AS_IS: tuple[type, ...] = (Markdown,)


def _finalize(value: Any) -> str:
    """Every `{{ ... }}` of the template passes here: costlog's filters' output (and what
    the template marks `| safe`) is printed as it is, any other value is escaped by `md`."""
    kind = type(value)
    if kind is Markdown or kind is int:
        return str(value)
    if kind is str and is_plain(value):
        return str(value)
    if isinstance(value, _PRINTED_AS_IS):
        return str(value)
    return md(value, strip=False)


@functools.cache
def _jinja() -> tuple[type[Any], type[Any], type[Any]]:
    """The sandbox, loader and bytecode cache classes (Jinja2 is imported on first use)."""
    global _PRINTED_AS_IS
    import jinja2
    from jinja2.exceptions import SecurityError
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    _PRINTED_AS_IS = (Markdown, Markup)

    class Sandbox(ImmutableSandboxedEnvironment):
        """No attribute that reaches Python internals, no mutation, and no product that
        would eat the memory (`range` is capped by Jinja's sandbox itself)."""

        intercepted_binops = frozenset({"*", "**"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if (
                        isinstance(seq, str | list | tuple)
                        and isinstance(n, int)
                        and len(seq) * n > _MAX_PRODUCT
                    ):
                        raise SecurityError("a product of that size is not allowed")
            elif (
                isinstance(left, int) and isinstance(right, int) and abs(left) > 1 and right > 4096
            ):
                raise SecurityError("a power of that size is not allowed")
            return super().call_binop(context, operator, left, right)

    class OneFile(jinja2.BaseLoader):
        """Serves the configured template and nothing else: `{% include %}`, `{% import %}`
        and `{% extends %}` of any other name fail, so no other file is ever read."""

        def __init__(self, name: str, template: Template) -> None:
            self.name, self.template = name, template

        def get_source(self, environment: Any, name: str) -> tuple[str, str, Any]:
            if name != self.name:
                raise jinja2.TemplateNotFound(name)
            return self.template.source, self.template.filename, lambda: True

    class Cache(jinja2.FileSystemBytecodeCache):
        """Jinja's own cache (a template whose text changed is compiled again), keyed apart
        from what a costlog without the sandbox compiled for the same file."""

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key: str = super().get_cache_key(f"{_CACHE_SALT}/{name}", filename)
            return key

    return Sandbox, OneFile, Cache


_NAME = "COST_LOG.md.j2"


def _environment(template: Template, cache_dir: Path | None = None) -> Any:
    import jinja2

    sandbox, loader, cache = _jinja()
    bytecode_cache = None
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = cache(str(cache_dir))
    env = sandbox(
        loader=loader(_NAME, template),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        bytecode_cache=bytecode_cache,
    )
    env.globals.pop("lipsum", None)  # lipsum(10**7) is a memory bomb and no template needs it
    env.filters.update(FILTERS)
    return env


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
        return Template(path.read_text(encoding="utf-8"), str(path), str(path))
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
    """Render the template in Jinja2's sandbox; `cache_dir` keeps its compiled form.

    A `Path` is a trusted file (the bundled template); a repository's comes from
    `load_template`. Whatever goes wrong inside the template (a syntax error, an attribute
    the sandbox refuses, an include, a crash) is one CostlogError naming the template.
    """
    import jinja2
    from jinja2.exceptions import SecurityError

    trusted = isinstance(template, Path)
    if isinstance(template, Path):
        template = Template(template.read_text(encoding="utf-8"), str(template), str(template))
    try:
        with _time_limit(None if trusted else TEMPLATE_SECONDS):
            text: str = _environment(template, cache_dir).get_template(_NAME).render(**context)
    except _TooSlow:
        raise CostlogError(
            f"template took over {TEMPLATE_SECONDS} s to render, stopped",
            path=template.shown,
            hint="a template may only format the data it is given",
        ) from None
    except jinja2.TemplateSyntaxError as exc:
        raise CostlogError(
            f"template error: {exc.message}", path=template.shown, line=exc.lineno
        ) from None
    except SecurityError as exc:
        raise CostlogError(
            f"template refused by the sandbox: {exc}",
            path=template.shown,
            line=_line_in(exc, template),
            hint="a template may only format the data it is given",
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
        MemoryError,
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
