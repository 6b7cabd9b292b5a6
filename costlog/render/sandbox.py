"""The Jinja2 environment a template renders in: the immutable sandbox, one file, size caps.

A repository's template may reach no Python internals (Jinja2's immutable sandbox), read
no other file (`OneFile`), and build no text, list or number over the caps of `caps`
(the `*`, `**`, `+` and `%` operators, `~`, the str methods and filters that can grow a
text, and the output itself). Every value it prints passes the output hook (`_finalize`),
which escapes anything that is not already Markdown. Jinja2 is imported on first use:
commands that never render don't pay for it.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from costlog.render.escape import Markdown, is_plain, md
from costlog.render.filters import FILTERS


@dataclass(frozen=True)
class Template:
    source: str
    #: how messages name it: the path from the config, or the bundled file
    shown: str
    #: the absolute path (Jinja's tracebacks, the bytecode cache key)
    filename: str
    #: the bundled template: rendered in-process, without caps or limits
    trusted: bool = False


#: the name the loader serves the one template under
NAME = "COST_LOG.md.j2"
#: bumped whenever the compiled form of a template would change (sandbox, output hook, `~`)
_CACHE_SALT = "sandboxed-2"
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
    from jinja2.compiler import CodeGenerator, optimizeconst
    from jinja2.runtime import markup_join, str_join
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    from markupsafe import Markup

    from costlog.render import caps

    _PRINTED_AS_IS = (Markdown, Markup)

    class Generator(CodeGenerator):
        """Jinja's compiler, but `a ~ b` goes through the sandbox's `joined` (its size is
        checked), not straight to `"".join`."""

        @optimizeconst
        def visit_Concat(self, node: Any, frame: Any) -> None:
            if frame.eval_ctx.volatile:
                markup = "context.eval_ctx.autoescape"
            else:
                markup = repr(bool(frame.eval_ctx.autoescape))
            self.write(f"environment.joined({markup}, (")
            for arg in node.nodes:
                self.visit(arg, frame)
                self.write(", ")
            self.write("))")

    class Sandbox(ImmutableSandboxedEnvironment):
        """No attribute that reaches Python internals, no mutation, and, when `max_text` is
        set, no text, list or number over the caps (`range` is capped by Jinja itself)."""

        code_generator_class = Generator
        intercepted_binops = frozenset({"*", "**", "+", "%"})
        #: the most characters one text or the output may have; None: no caps (trusted)
        max_text: int | None = None

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if self.max_text is not None:
                caps.check_binop(operator, left, right, self.max_text)
            return super().call_binop(context, operator, left, right)

        def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:
            owner = getattr(__obj, "__self__", None)
            if __self.max_text is not None and isinstance(owner, str | bytes):
                name = getattr(__obj, "__name__", "")
                args = caps.check_method(owner, name, args, kwargs, __self.max_text)
            return super().call(__context, __obj, *args, **kwargs)

        def wrap_str_format(self, value: Any) -> Any:
            wrapped = super().wrap_str_format(value)
            limit = self.max_text
            if wrapped is None or limit is None:
                return wrapped
            text, is_map = value.__self__, value.__name__ == "format_map"

            def checked(*args: Any, **kwargs: Any) -> Any:
                if is_map and len(args) == 1 and isinstance(args[0], dict):
                    caps.check_format(text, (), args[0], limit)
                else:
                    caps.check_format(text, args, kwargs, limit)
                return wrapped(*args, **kwargs)

            return checked

        def joined(self, markup: bool, parts: tuple[Any, ...]) -> str:
            """`a ~ b ~ ...`: the texts joined, if their total length is within the cap."""
            if self.max_text is not None:
                lengths = (len(p if isinstance(p, str) else str(p)) for p in parts)
                caps.check(sum(lengths), self.max_text)
            return str(markup_join(parts) if markup else str_join(parts))

        def concat(self, parts: Any) -> str:
            """The output, and every block the template captures: refused past the cap."""
            limit = self.max_text
            if limit is None:
                return "".join(parts)
            kept, total = [], 0
            for part in parts:
                total += len(part)
                if total > limit:
                    raise caps.OutputTooLarge(f"over {limit} characters")
                kept.append(part)
            return "".join(kept)

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
        from what a costlog without this sandbox compiled for the same file."""

        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            key: str = super().get_cache_key(f"{_CACHE_SALT}/{name}", filename)
            return key

    return Sandbox, OneFile, Cache


def environment(template: Template, cache_dir: Path | None, max_text: int | None) -> Any:
    """The sandbox for one template; `max_text` turns the size caps on (None: off)."""
    import jinja2

    sandbox, loader, cache = _jinja()
    bytecode_cache = None
    if cache_dir is not None:
        with contextlib.suppress(OSError):
            cache_dir.mkdir(parents=True, exist_ok=True)
            bytecode_cache = cache(str(cache_dir))
    env = sandbox(
        loader=loader(NAME, template),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        finalize=_finalize,
        bytecode_cache=bytecode_cache,
    )
    env.max_text = max_text
    env.globals.pop("lipsum", None)  # lipsum(10**7) is a memory bomb and no template needs it
    env.filters.update(FILTERS)
    if max_text is not None:
        from costlog.render.caps import capped_filters

        env.filters.update(capped_filters(max_text))
    return env
