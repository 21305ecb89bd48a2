"""`is_plain_csv` proves from a file's bytes that no value needs cleaning; any doubt must answer False."""
from __future__ import annotations

import random

import pytest

from feeds import plain_csv
from feeds.plain_csv import is_plain_csv

WORD = set(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


def brute_force(data: bytes, max_value_bytes: int) -> bool:
    """The rule as written in the docstring, byte by byte."""
    if not data.isascii() or any(b in data for b in (b"\0", b'"', b"'")):
        return False
    padded = b"\n" + data + b"\n"
    for i, byte in enumerate(padded):
        if byte == ord(" ") and not (padded[i - 1] in WORD and padded[i + 1] in WORD):
            return False
    return all(len(line) <= max_value_bytes for line in data.split(b"\n"))


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("order_id,sku,quantity\nA1,SKU 1,2\nA2,SKU-2,3\n", True),
        ("order_id,sku\nA1, SKU1\n", False),  # a space at a value's start
        ("order_id,sku\nA1,SKU1 \n", False),  # at its end
        ('order_id,sku\n"A1",SKU1\n', False),  # quoted
        ("order_id,sku\n=1+1',SKU1\n", False),  # a quote mark (a spreadsheet escape)
        ("order_id,sku\nA1,Kühlschrank\n", False),  # not ASCII: trim might have more to do
        ("order_id,sku\nA1,SKU\x001\n", False),  # a NUL byte
        ("order_id,sku\nA1,SKU1", True),  # no line break at the end
        (" order_id,sku\n", False),  # a space at the file's very start
    ],
)
def test_plain_and_not_plain_files(tmp_path, text, plain):
    path = tmp_path / "orders.csv"
    path.write_bytes(text.encode("utf-8"))
    assert is_plain_csv(path, max_value_bytes=1000) is plain
    assert brute_force(path.read_bytes(), 1000) is plain


def test_a_line_longer_than_a_value_may_be_is_not_plain(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(b"a,b\n" + b"x" * 50 + b"\nc,d\n")
    assert is_plain_csv(path, max_value_bytes=50)
    assert not is_plain_csv(path, max_value_bytes=49)


def test_it_agrees_with_the_rule_across_chunk_boundaries(tmp_path, monkeypatch):
    """Small chunks put spaces, line breaks and long lines on every boundary the streamed pass has."""
    rng = random.Random(3)
    alphabet = [b"a", b"Z", b"7", b",", b"\n", b" ", b"-", b"\r"] + [b"a"] * 8
    path = tmp_path / "f.csv"
    for chunk in (1, 2, 3, 5, 8):
        monkeypatch.setattr(plain_csv, "CHUNK_BYTES", chunk)
        for _ in range(300):
            data = b"".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
            path.write_bytes(data)
            limit = rng.randint(1, 12)
            assert is_plain_csv(path, limit) is brute_force(data, limit), (chunk, data, limit)
