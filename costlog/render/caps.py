"""Size caps inside the template sandbox: how big a text, list or number an operation of a
repository's template would make, checked before it is made.

Jinja2's sandbox stops a template from reaching Python internals, not from asking for a
4 GB string: `"x" | center(4000000000)`, `"%04000000000d" | format(1)`, a `~` doubled in a
loop or `[big] * 1000` are single calls into C that no time bound interrupts. These checks
refuse such a call with a clear message before any memory is touched. They estimate from
the arguments (an upper bound, cheap to compute); what slips past them (a list nested into
itself and then printed, say) is stopped by the memory limit of the child process that
renders a repository's template. Imported with Jinja2, on the first render.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

#: the largest number a template may compute, in bits (Python prints no int above 4300
#: digits, about 14,300 bits; `(10**4096)**4096` alone takes seconds of C)
MAX_INT_BITS = 100_000
#: the largest exponent, whatever the base (`7 ** 4096` is fine)
MAX_EXPONENT = 4096
#: the most rows `batch` may pad to and the most slices `slice` may make (Jinja's own
#: bound on `range`)
MAX_ITEMS = 100_000
#: how deep `size` looks into nested lists and mappings
_DEPTH = 3
#: what `+` concatenates
_SEQUENCES = (str, bytes, list, tuple)

#: one printf conversion: flags, width, precision
_PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d*))?[hlL]?(.)", re.S)


class TooLarge(Exception):
    """An operation of the template would make a text, list or number over its cap."""


class OutputTooLarge(TooLarge):
    """The template's output (or a block it captures) would be over the output cap."""


def size(value: Any, limit: int, depth: int = 0) -> int:
    """Roughly how many characters `value` prints as (an upper bound for texts, numbers and
    the lists and mappings holding them); counting stops soon after `limit`."""
    if isinstance(value, str | bytes):
        return len(value)
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, float):
        return 24
    if isinstance(value, list | tuple | set | frozenset | dict):
        total = 2
        if depth >= _DEPTH:
            return total + 2 * len(value)
        items: Iterable[Any] = value.items() if isinstance(value, dict) else value
        for item in items:
            total += 2 + size(item, limit, depth + 1)
            if total > limit:
                break
        return total
    return 16


def check(n: int, limit: int, what: str = "a text") -> None:
    if n > limit:
        raise TooLarge(f"{what} of that size is not allowed")


def check_binop(operator: str, left: Any, right: Any, limit: int) -> None:
    """`*`, `**`, `+` and `%` of the template, before Python computes them."""
    if operator == "*":
        for seq, n in ((left, right), (right, left)):
            if isinstance(seq, str | bytes | list | tuple) and isinstance(n, int):
                check(size(seq, limit) * n, limit, "a product")
        if _ints(left, right) and left.bit_length() + right.bit_length() > MAX_INT_BITS:
            raise TooLarge("a number of that size is not allowed")
    elif operator == "**":
        too_big = _ints(left, right) and abs(left) > 1
        if too_big and (right > MAX_EXPONENT or left.bit_length() * right > MAX_INT_BITS):
            raise TooLarge("a power of that size is not allowed")
    elif operator == "+":
        if any(isinstance(left, kind) and isinstance(right, kind) for kind in _SEQUENCES):
            check(size(left, limit) + size(right, limit), limit)
    elif operator == "%" and isinstance(left, str):
        check_printf(left, right, limit)


def _ints(left: Any, right: Any) -> bool:
    return type(left) is int and type(right) is int


def check_printf(text: str, values: Any, limit: int) -> None:
    """`text % values`: each conversion prints at most its width, its precision and the
    largest value (`*` takes its width from the values)."""
    pool = list(values.values()) if isinstance(values, dict) else values
    pool = list(pool) if isinstance(pool, tuple | list) else [pool]
    biggest = max((size(v, limit) for v in pool), default=0)
    widest = max((v for v in pool if type(v) is int), default=0)
    total = len(text)
    for match in _PRINTF.finditer(text):
        for part in match.group(1, 2):
            if part == "*":
                total += widest
            elif part:
                total += int(part)
        total += biggest
        check(total, limit, "a format")


def check_format(text: str, args: tuple[Any, ...], kwargs: dict[str, Any], limit: int) -> None:
    """`text.format(...)`: each field prints at most the numbers in its spec (width,
    precision) and the largest value; a spec taken from the values counts the largest int."""
    import string

    pool = [*args, *kwargs.values()]
    biggest = max((size(v, limit) for v in pool), default=0)
    widest = max((v for v in pool if type(v) is int), default=0)
    total = len(text)
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return  # str.format raises it again, with its own message
    for _, name, spec, _ in fields:
        if name is None:
            continue
        total += biggest
        if spec and "{" in spec:
            total += 2 * widest
        total += sum(int(n) for n in re.findall(r"\d+", spec or ""))
        check(total, limit, "a format")


def check_method(
    text: str | bytes, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], limit: int
) -> tuple[Any, ...]:
    """A str or bytes method that can grow its text (`"x".center(10**9)`); returns the
    arguments to call it with (`join` reads its iterable once, here)."""
    if name in ("center", "ljust", "rjust", "zfill") and args and type(args[0]) is int:
        check(args[0], limit)
    elif name == "expandtabs":
        tabs = text.count(b"\t") if isinstance(text, bytes) else text.count("\t")
        width = args[0] if args else kwargs.get("tabsize", 8)
        width = width if type(width) is int else 8
        check(len(text) + tabs * width, limit)
    elif name == "replace" and len(args) >= 2:
        check(replaced_size(text, args[0], args[1], args[2] if len(args) > 2 else -1), limit)
    elif name == "join" and args:
        items = list(args[0])
        check(sum(size(i, limit) for i in items) + len(text) * len(items), limit)
        return (items, *args[1:])
    elif name == "translate" and args and isinstance(args[0], dict):
        widest = max((size(v, limit) for v in args[0].values()), default=1)
        check(len(text) * max(widest, 1), limit)
    return args


def replaced_size(text: object, old: object, new: object, count: object = -1) -> int:
    """The length of `text.replace(old, new, count)` (0 for arguments it would refuse)."""
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):  # noqa: SIM114
        hits = text.count(old) if old else len(text) + 1
    elif isinstance(text, bytes) and isinstance(old, bytes) and isinstance(new, bytes):
        hits = text.count(old) if old else len(text) + 1
    else:
        return 0
    if type(count) is int and count >= 0:
        hits = min(hits, count)
    return len(text) + hits * (len(new) - len(old))


def capped_filters(limit: int) -> dict[str, Callable[..., Any]]:
    """Jinja's filters that can grow their input (`center`, `indent`, `wordwrap`, `format`,
    `replace`, `join`, `batch`, `slice`), each checking its arguments first. `truncate`
    needs no check: its result is never longer than its input and its `end`."""
    from jinja2 import filters
    from jinja2.utils import pass_environment, pass_eval_context

    def center(value: Any, width: int = 80) -> str:
        if type(width) is int:
            check(width, limit)
        return filters.do_center(value, width)

    def indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
        step = len(width) if isinstance(width, str) else width if type(width) is int else 0
        check(step, limit)
        if isinstance(s, str):
            check(len(s) + (s.count("\n") + 2) * step, limit)
        return filters.do_indent(s, width, first, blank)

    @pass_environment
    def wordwrap(env: Any, s: Any, width: int = 79, *args: Any, **kwargs: Any) -> str:
        wrap = kwargs.get("wrapstring", args[1] if len(args) > 1 else None)
        if isinstance(s, str) and type(width) is int and width > 0:
            lines = 2 * len(s) // width + s.count("\n") + 2
            check(
                len(s) + lines * len(wrap if isinstance(wrap, str) else env.newline_sequence), limit
            )
        return filters.do_wordwrap(env, s, width, *args, **kwargs)

    def format(value: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(value, str):
            check_printf(value, kwargs or args, limit)
        return filters.do_format(value, *args, **kwargs)

    @pass_eval_context
    def replace(eval_ctx: Any, s: Any, old: Any, new: Any, count: Any = None) -> str:
        check(replaced_size(s, old, new, -1 if count is None else count), limit)
        return filters.do_replace(eval_ctx, s, old, new, count)

    @pass_eval_context
    def join(eval_ctx: Any, value: Any, d: Any = "", attribute: Any = None) -> str:
        items = list(value)
        if attribute is not None:
            items = list(map(filters.make_attrgetter(eval_ctx.environment, attribute), items))
        check(sum(size(i, limit) for i in items) + size(d, limit) * len(items), limit)
        return filters.sync_do_join(eval_ctx, items, d)

    def batch(value: Any, linecount: int, fill_with: Any = None) -> Any:
        if type(linecount) is int and fill_with is not None:
            check(linecount, MAX_ITEMS, "a batch")
        return filters.do_batch(value, linecount, fill_with)

    def slice(value: Any, slices: int, fill_with: Any = None) -> Any:
        if type(slices) is int:
            check(slices, MAX_ITEMS, "a slice count")
        return filters.sync_do_slice(value, slices, fill_with)

    return {
        "center": center,
        "indent": indent,
        "wordwrap": wordwrap,
        "format": format,
        "replace": replace,
        "join": join,
        "batch": batch,
        "slice": slice,
    }
