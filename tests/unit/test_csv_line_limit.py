"""A CSV line over the limit is refused while the file is read, never held whole (issue #14).

The csv module applies its field limit only to a line it has read whole: a 1 GiB line cost
2.1 GB of memory before its refusal. The reader's first pass over the bytes refuses it instead,
having read at most the limit and one chunk of it.
"""

from __future__ import annotations

import tracemalloc

import pytest
from cakupan.sources import readers
from cakupan.sources.contracts import parse_contract
from cakupan.sources.errors import SourceFileError
from cakupan.sources.extract import extract_file
from cakupan.sources.readers import open_source

CONTRACT = {
    "name": "lines",
    "kind": "csv",
    "path": "*.csv",
    "raw_table": "raw.lines",
    "fields": {
        "code": {"aliases": ["kode"], "required": True},
        "n": {"aliases": ["jumlah"], "type": "integer"},
    },
}
HEADER = b"kode;jumlah\n"


def _write(path, *lines: bytes, newline: bytes = b"\n"):
    path.write_bytes(HEADER + newline.join(lines) + newline)
    return path


def _fault(path, limit: int) -> str:
    with pytest.raises(SourceFileError) as info:
        open_source(path, "csv", max_line_bytes=limit)
    return info.value.fault


def refused(line: int, limit: int) -> str:
    return (
        f"line {line:,} is longer than {limit:,} bytes (the contract's limits.max_line_bytes);"
        " refused before reading the rest"
    )


def test_the_contract_limit_refuses_a_long_line_naming_it(tmp_path):
    path = _write(tmp_path / "a.csv", b"32.01;1", b"32.71;2", b"33.25;" + b"9" * 5000, b"x;1")
    contract = parse_contract({**CONTRACT, "limits": {"max_line_bytes": 1000}}, "lines")
    with pytest.raises(SourceFileError) as info:
        extract_file(path, contract)
    assert info.value.fault == refused(4, 1000)
    assert "9999" not in str(info.value)  # the line's contents are not shown


@pytest.mark.parametrize("chunk", [1 << 20, 256, 1000, 1001])
def test_the_limit_is_exact_inside_a_chunk_and_across_chunks(tmp_path, monkeypatch, chunk):
    monkeypatch.setattr(readers, "_CHUNK", chunk)
    short = [b"32.01;%d" % i for i in range(300)]
    at_limit = b"32.71;" + b"1" * 994  # 1000 bytes without its newline
    path = _write(tmp_path / "ok.csv", *short, at_limit, *short)
    assert open_source(path, "csv", max_line_bytes=1000).line_count == 602
    path = _write(tmp_path / "long.csv", *short, at_limit + b"1", *short)
    assert _fault(path, 1000) == refused(302, 1000)
    # the first line, the last line, a last line without a newline, a CRLF file
    assert _fault(_write(tmp_path / "f.csv", at_limit + b"1"), 1000) == refused(2, 1000)
    path.write_bytes(HEADER + b"\n".join(short) + b"\n" + at_limit + b"1")
    assert _fault(path, 1000) == refused(302, 1000)
    path = _write(tmp_path / "crlf.csv", *short, at_limit, newline=b"\r\n")
    assert _fault(path, 1000) == refused(302, 1000)  # the \r counts


def test_a_utf16_file_is_held_to_the_limit_too(tmp_path):
    path = tmp_path / "u.csv"
    path.write_bytes(("kode;jumlah\n32.01;" + "1" * 600 + "\n").encode("utf-16"))
    assert _fault(path, 1000) == refused(2, 1000)


def test_a_huge_line_is_refused_before_it_is_read_whole(tmp_path):
    """A 64 MiB line under the default limit: the refusal costs about one chunk of memory."""
    path = tmp_path / "huge.csv"
    with path.open("wb") as f:
        f.write(HEADER + b"32.01;")
        block = b"1" * (1 << 20)
        for _ in range(64):
            f.write(block)
        f.write(b"\n32.71;2\n")
    contract = parse_contract(CONTRACT, "lines")
    tracemalloc.start()
    try:
        with pytest.raises(SourceFileError) as info:
            extract_file(path, contract)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert info.value.fault == refused(2, 131_072)
    assert peak < 4 * (1 << 20), f"{peak:,} bytes traced for a 64 MiB line"
