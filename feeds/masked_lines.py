"""Personal values in a line that could not be read as a row, hidden before the line is quarantined."""
from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable


def masked_line(text: str, header: list[str], personal: list[str], delimiter: str | None, mask: Callable[[str], str]) -> str:
    """A bad line with the values of its personal columns replaced by `mask(value)`.

    The line could not be split as the header says, so where a value sits is
    a guess: in a CSV line with as many fields as the header, the personal
    columns' fields; otherwise every field from the first place a personal
    value can have shifted to (a missing field moves it left, an extra one
    right), so nothing personal is kept in clear. In a JSON line, the value
    after each personal key.
    """
    if delimiter is None:
        for key in personal:
            quoted = json.dumps(key)
            pattern = re.compile(re.escape(quoted) + r'(\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]*)')
            text = pattern.sub(lambda m, q=quoted: f'{q}{m[1]}"{mask(m[2].strip(chr(34)))}"' if m[2] else m[0], text)
        return text
    try:
        fields = next(csv.reader([text], delimiter=delimiter))
    except (csv.Error, StopIteration):
        fields = text.split(delimiter)
    places = [i for i, h in enumerate(header) if h in personal]
    if not places:
        return text
    if len(fields) == len(header):
        hidden = set(places)
    else:
        start = max(0, min(places) - max(0, len(header) - len(fields)))
        hidden = set(range(start, len(fields)))
    return delimiter.join(mask(f) if i in hidden and f else f for i, f in enumerate(fields))
