"""JSON that bm reads, parsed as bounded data: UTF-8, at most MAX_DEPTH levels of nesting, integers of at most
MAX_DIGITS digits, and one BMError naming the file (or the inline text) for anything else, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bm.errors import BMError

__all__ = ["MAX_DEPTH", "MAX_DIGITS", "parse_json", "read_json_file"]

MAX_DEPTH = 64  # bm's own files nest at most ~6 levels
MAX_DIGITS = 19  # |int| < 10**19: every integer bm writes (seeds below 2**64, counts, steps)


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def parse_json(text: str | bytes, where: str) -> Any:
    """The JSON value of `text` (bytes: strict UTF-8); `where` names it in the one-line error."""
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        value = json.loads(text, parse_int=_integer)
    except UnicodeDecodeError:
        raise BMError(f"{where} is not UTF-8 text") from None
    except RecursionError:
        raise BMError(f"{where} is nested too deeply (at most {MAX_DEPTH} levels)") from None
    except json.JSONDecodeError as e:
        raise BMError(f"{where} is not valid JSON: {e.msg} at line {e.lineno}") from None
    except ValueError as e:
        raise BMError(f"{where} holds {e} (at most {MAX_DIGITS})") from None
    if _depth(value) > MAX_DEPTH:
        raise BMError(f"{where} is nested too deeply (at most {MAX_DEPTH} levels)")
    return value


def read_json_file(path: Path, where: str | None = None) -> Any:
    """`parse_json` of a file's bytes; an unreadable file is one BMError too."""
    try:
        data = Path(path).read_bytes()
    except OSError as e:
        raise BMError(f"cannot read {where or path}: {e.strerror or e}") from None
    return parse_json(data, where or str(path))
