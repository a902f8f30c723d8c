"""Reading JSON Lines files given by users (imports, eval queries): good lines kept, bad ones reported."""

from __future__ import annotations

import json
from pathlib import Path

from .errors import InvalidInput
from .names import readable


def read_jsonl(path: Path, required: tuple[str, ...]) -> tuple[list[tuple[int, dict]], list[tuple[int, str]]]:
    """(line number, object) for each good line, and (line number, reason) for each bad one."""
    good, bad = [], []
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise InvalidInput(f"cannot read {path}: {e}") from e
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line, object_pairs_hook=_readable_object)
        except ValueError as e:
            bad.append((number, f"not JSON ({e.msg})"))
            continue
        if not isinstance(obj, dict):
            bad.append((number, "not a JSON object"))
            continue
        missing = [k for k in required if not isinstance(obj.get(k), str) or not obj[k].strip()]
        if missing:
            bad.append((number, f"missing or empty {', '.join(missing)}"))
            continue
        good.append((number, obj))
    return good, bad


def _readable_object(pairs: list[tuple[str, object]]) -> dict:
    """A JSON object with every string in it valid Unicode: a lone surrogate ("\\ud800") becomes U+FFFD."""
    return {readable(k): _readable(v) for k, v in pairs}


def _readable(value):
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, list):
        return [_readable(v) for v in value]
    return value
