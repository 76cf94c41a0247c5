"""Read source files as numbered rows of cells, refusing unsafe or broken files first.

`open_source(path, kind, ...)` checks the file before any parser sees it and raises
`SourceFileError(path, fault)` for:

* an empty file;
* a workbook with an OLE2/CFB signature where a zip (.xlsx/.ods) is expected: an encrypted
  (password-protected) workbook, or an old .xls renamed;
* a file that is not a zip (or a corrupt zip) where a workbook is expected;
* a zip bomb: the zip directory declares more than 200 MB uncompressed and more than 100 times
  the file size (checked from the directory, before anything is decompressed);
* XML with a document type declaration (`<!DOCTYPE` / `<!ENTITY`, the entity-expansion attack):
  every XML part's prolog is scanned before the workbook is opened;
* a CSV that is binary, or does not decode in the declared encoding, or has a line longer than
  the limit (refused in the first pass over the bytes, never read whole: the csv module's field
  limit applies only once the whole line is in memory).

It also computes the file's SHA-256 in the same pass. Then `reader.sheet(name)` gives a `Sheet`
whose `rows` iterator yields `(row_number, cells)` lazily (1-based spreadsheet row / CSV line
numbers). Spreadsheets are read with python-calamine; a sheet whose cell count is over the
limit is refused before its rows are turned into Python objects. CSV encoding (UTF-8 with or
without BOM, else cp1252) and delimiter (`;`, `,`, tab, `|`) are detected unless given.

The pre-parse checks are kept here because no reader makes them before it parses:
python-calamine and `zipfile` inflate what the zip directory declares, and the XML parsers
underneath expand entities or fail deep inside; these checks refuse such a file from its
directory and prologs alone, with one message naming the file and the fault.
"""

from __future__ import annotations

import codecs
import csv
import fnmatch
import hashlib
import re
import zipfile
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cakupan.sources.cells import column_letter, column_number
from cakupan.sources.errors import SourceFileError, content_free

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
BOMB_MIN_BYTES = 200 * 1024 * 1024
BOMB_RATIO = 100
PROLOG_SCAN_LIMIT = 1024 * 1024
CSV_DELIMITERS = (";", ",", "\t", "|")
_CHUNK = 1 << 20
_MAX_BYTES_PER_CELL = 2000  # worksheet XML per declared cell beyond which the dimension is wrong
_DOCTYPE = re.compile(rb"<!\s*(doctype|entity)", re.IGNORECASE)
_ROOT_START = re.compile(rb"<[A-Za-z_]")


@dataclass
class Sheet:
    """One sheet (or the CSV file) as rows; `rows` yields `(row_number, cells)` once."""

    name: str
    rows: Iterator[tuple[int, list[Any]]]
    # merged ranges, 0-based, columns relative to cells[0]; a Future while a streamed
    # worksheet's ranges are still being read
    merged: list[tuple[tuple[int, int], tuple[int, int]]] | Future | None
    col_offset: int = 0  # absolute column index of cells[0] (for column letters)
    cells: int = 0  # estimated cell count (rows x columns)

    def merged_ranges(self) -> list[tuple[tuple[int, int], tuple[int, int]]] | None:
        if isinstance(self.merged, Future):
            self.merged = self.merged.result()
        return self.merged

    def column_name(self, index: int) -> str:
        return column_letter(index + self.col_offset)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _head_and_size(path: Path) -> tuple[bytes, int]:
    with path.open("rb") as f:
        head = f.read(8192)
    return head, path.stat().st_size


_CONTENT_SIGNATURES = (
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip file"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (OLE_SIGNATURE, "an OLE2/CFB container"),
)


def describe_content(head: bytes) -> str:
    """What kind of file `head` (its first bytes) begins, in words, never the bytes themselves:
    error messages name the kind, since a file's contents may be personal data."""
    for signature, kind in _CONTENT_SIGNATURES:
        if head.startswith(signature):
            return kind
    if head.startswith(ZIP_SIGNATURES):
        return "a zip archive"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "UTF-16 text"
    if b"\x00" in head:
        return "binary data (NUL bytes)"
    text = head.lstrip(codecs.BOM_UTF8).lstrip()
    lowered = text[:512].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "an HTML page"
    if text.startswith(b"<"):
        return "XML or other markup text"
    if text.startswith((b"{", b"[")):
        return "JSON-like plain text"
    return "plain text"


def _check_xml_prolog(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """Refuse a DOCTYPE/ENTITY declaration; per XML 1.0 it can only stand before the root.

    Returns the bytes read (the part's beginning: a worksheet's `<dimension>` is there)."""
    seen = b""
    try:
        with zf.open(info) as member:
            while len(seen) < PROLOG_SCAN_LIMIT:
                chunk = member.read(16384)
                if not chunk:
                    break
                seen += chunk
                if seen.startswith((b"\xff\xfe", b"\xfe\xff")):
                    text = seen.decode("utf-16", errors="ignore").encode("utf-8")
                else:
                    text = seen
                root = _ROOT_START.search(text)
                prolog = text[: root.start()] if root else text
                if _DOCTYPE.search(prolog) or _DOCTYPE.search(text[:65536]):
                    raise SourceFileError(
                        path,
                        f"XML entity declarations refused: {info.filename} carries a"
                        " <!DOCTYPE>/<!ENTITY> (entity expansion attack or not an Office file)",
                    )
                if root:
                    if len(seen) < 4096 and info.filename.startswith("xl/worksheets/"):
                        seen += member.read(4096)  # reach the <dimension> element
                    return seen
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError) as exc:
        raise SourceFileError(path, f"corrupt workbook: {info.filename}: {exc}") from None
    if len(seen) >= PROLOG_SCAN_LIMIT:
        raise SourceFileError(
            path,
            f"XML part {info.filename} has no root element in its"
            f" first {PROLOG_SCAN_LIMIT // 1024} KB",
        )
    return seen


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_SHEET_ENTRY = re.compile(rb'<(?:\w+:)?sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_SHEET_ENTRY_ID_FIRST = re.compile(
    rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]*)"[^>]*?\bname="([^"]*)"'
)
_RELATIONSHIP = re.compile(rb'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')


def _declared_dimensions(zf: zipfile.ZipFile, heads: dict[str, bytes]) -> dict[str, tuple]:
    """Sheet name -> (rows, columns, part, first column (0-based), XML size) from each
    worksheet's `<dimension ref>` (xlsx only)."""
    import html

    try:
        workbook = zf.read("xl/workbook.xml")
        rels = zf.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {rid.decode(): target.decode() for rid, target in _RELATIONSHIP.findall(rels)}
    entries = [(n, r) for n, r in _SHEET_ENTRY.findall(workbook)]
    entries += [(n, r) for r, n in _SHEET_ENTRY_ID_FIRST.findall(workbook)]
    found: dict[str, tuple] = {}
    for name, rid in entries:
        target = targets.get(rid.decode(), "").lstrip("/")
        part = target if target.startswith("xl/") else f"xl/{target}"
        m = _DIMENSION.search(heads.get(part, b""))
        if m is None:
            continue
        first_col, first_row = column_number(m[1]), int(m[2])
        last_col = column_number(m[3]) if m[3] else first_col
        last_row = int(m[4]) if m[4] else first_row
        try:
            size = zf.getinfo(part).file_size
        except KeyError:  # a sheet entry pointing nowhere: calamine reports it when read
            size = 0
        found[html.unescape(name.decode("utf-8", "replace"))] = (
            last_row,
            last_col - first_col + 1,
            part,
            first_col - 1,
            size,
        )
    return found


def check_zip_workbook(path: Path, head: bytes, size: int, kind: str) -> dict[str, tuple]:
    """Safety checks of an .xlsx/.ods before python-calamine opens it.

    Returns the sheets' declared dimensions (xlsx), to refuse an oversized sheet before it is
    loaded."""
    if head.startswith(OLE_SIGNATURE):
        raise SourceFileError(
            path,
            f"encrypted workbook: an OLE2/CFB container, not an .{kind} zip"
            " (password-protected, or an old .xls renamed); save it unprotected as ." + kind,
        )
    if not head.startswith(ZIP_SIGNATURES):
        raise SourceFileError(
            path,
            f"not a workbook: a .{kind} must be a zip archive; this file is"
            f" {describe_content(head)} ({size:,} bytes)",
        )
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            declared = sum(i.file_size for i in infos)
            if declared > BOMB_MIN_BYTES and declared > BOMB_RATIO * size:
                raise SourceFileError(
                    path,
                    f"zip bomb refused: the zip directory declares {declared / 2**20:,.0f} MB"
                    f" uncompressed from a {size / 2**10:,.0f} KB file"
                    f" (ratio {declared / max(size, 1):,.0f}, limit {BOMB_RATIO})",
                )
            if any(i.flag_bits & 0x1 for i in infos):
                raise SourceFileError(path, "encrypted workbook: zip members are encrypted")
            names = {i.filename for i in infos}
            if kind == "xlsx" and "[Content_Types].xml" not in names:
                raise SourceFileError(path, "not a workbook: the zip has no [Content_Types].xml")
            if kind == "ods" and "content.xml" not in names:
                raise SourceFileError(path, "not a workbook: the zip has no content.xml")
            heads = {}
            for info in infos:
                if info.filename.lower().endswith((".xml", ".rels", ".vml")):
                    heads[info.filename] = _check_xml_prolog(path, zf, info)
            return _declared_dimensions(zf, heads) if kind == "xlsx" else {}
    except zipfile.BadZipFile as exc:
        raise SourceFileError(path, f"corrupt workbook: not a readable zip ({exc})") from None
    except zipfile.LargeZipFile as exc:  # pragma: no cover
        raise SourceFileError(path, f"corrupt workbook: {exc}") from None


class _LineGuard:
    """Refuses a line over `limit` bytes while the file's chunks go by, before any line is
    held whole (the csv module reads a whole line before its field limit applies: a 1 GiB line
    cost 2.1 GB of memory before its refusal). Newlines are counted on the way.

    Per chunk: the line running on from the previous chunk is measured to the first newline,
    the lines inside the chunk are checked by probing windows of `limit // 2` bytes for a
    newline (a line over `limit` spans a whole window), and the chunk's tail starts the next
    running line; only a window without a newline is measured exactly."""

    def __init__(self, path: Path, limit: int):
        self.path = path
        self.limit = limit
        self.newlines = 0
        self.run = 0  # bytes of the current line so far
        self.offset = 0  # bytes before the current chunk

    def feed(self, chunk: bytes) -> None:
        first = chunk.find(b"\n")
        if first < 0:
            self.run += len(chunk)
            self._check(self.run, self.newlines)
        else:
            self._check(self.run + first, self.newlines)
            last = chunk.rfind(b"\n")
            if last - first > self.limit:
                self._check_inside(chunk, first, last)
            self.newlines += chunk.count(b"\n")
            self.run = len(chunk) - last - 1
            self._check(self.run, self.newlines)
        self.offset += len(chunk)

    def _check_inside(self, chunk: bytes, first: int, last: int) -> None:
        step = max(self.limit // 2, 1)
        for start in range(first + 1, last, step):
            end = min(start + step, last)
            if chunk.find(b"\n", start, end) < 0:
                begin = chunk.rfind(b"\n", 0, start) + 1
                length = chunk.find(b"\n", start) - begin
                self._check(length, self.newlines + chunk.count(b"\n", 0, begin))

    def _check(self, length: int, newlines_before: int) -> None:
        if length > self.limit:
            raise SourceFileError(
                self.path,
                f"line {newlines_before + 1:,} is longer than {self.limit:,} bytes"
                " (the contract's limits.max_line_bytes); refused before reading the rest",
            )


def _scan_csv(path: Path, head: bytes, encoding: str, max_line_bytes: int) -> tuple[str, int]:
    """(encoding, newline count) in one pass; raises SourceFileError for undecodable bytes or
    a line over `max_line_bytes`."""
    if encoding == "auto":
        if head.startswith(codecs.BOM_UTF8):
            candidates = ["utf-8-sig"]
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            return "utf-16", _count_newlines(path, max_line_bytes)
        else:
            candidates = ["utf-8", "cp1252", "latin-1"]
    else:
        candidates = [encoding]
    for n, candidate in enumerate(candidates):
        decoder = codecs.getincrementaldecoder(candidate)()
        guard = _LineGuard(path, max_line_bytes)
        pending = False  # a non-ASCII chunk was decoded: its tail may continue in the next one
        try:
            with path.open("rb") as f:
                while chunk := f.read(_CHUNK):
                    if pending or not chunk.isascii():
                        decoder.decode(chunk)
                        pending = True
                    guard.feed(chunk)
                decoder.decode(b"", final=True)
            return candidate, guard.newlines
        except UnicodeDecodeError as exc:
            if encoding == "auto" and n + 1 < len(candidates):
                continue
            raise SourceFileError(
                path,
                f"not {candidate} text: undecodable byte at offset {guard.offset + exc.start}",
            ) from None
    raise AssertionError("unreachable")  # pragma: no cover


def _count_newlines(path: Path, max_line_bytes: int) -> int:
    guard = _LineGuard(path, max_line_bytes)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            guard.feed(chunk)
    return guard.newlines


def sniff_delimiter(sample_lines: list[str]) -> tuple[str, int]:
    """The delimiter that splits the sample's lines most consistently, and the modal width."""
    lines = [line for line in sample_lines if line.strip()]
    best: tuple[int, int, str] | None = None
    for delim in CSV_DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delim)]
        counts = Counter(w for w in widths if w > 1)
        if not counts:
            continue
        width, agreeing = counts.most_common(1)[0]
        score = (agreeing, width)
        if best is None or score > best[:2]:
            best = (agreeing, width, delim)
    if best is None:
        return ",", max((len(line.split(",")) for line in lines), default=1)
    return best[2], best[1]


class SourceReader:
    """An opened source file: `sheet_names`, `select(globs)`, `sheet(name)`, `close()`."""

    def __init__(
        self,
        path: str | Path,
        kind: str,
        *,
        encoding: str = "auto",
        delimiter: str = "auto",
        max_cells: int = 20_000_000,
        max_line_bytes: int = 131_072,
        stream_above_bytes: int | None = None,
        chunk_bytes: int | None = None,
    ):
        from cakupan.sources import xlsx_stream

        self.path = Path(path)
        self.stream_above_bytes = (
            xlsx_stream.STREAM_ABOVE_BYTES if stream_above_bytes is None else stream_above_bytes
        )
        self.chunk_bytes = xlsx_stream.CHUNK_BYTES if chunk_bytes is None else chunk_bytes
        self._streams: list = []
        self.kind = kind
        self.max_cells = max_cells
        self.max_line_bytes = max_line_bytes
        self.encoding: str | None = None
        self.delimiter: str | None = None
        self._workbook = None
        self._dimensions: dict[str, tuple] = {}
        if not self.path.is_file():
            raise SourceFileError(self.path, "no such file")
        self._sha256: str | None = None  # computed when first asked (a load hashes as it streams)
        head, self.size = _head_and_size(self.path)
        if self.size == 0:
            raise SourceFileError(self.path, "empty file (0 bytes)")
        if kind == "csv":
            self._open_csv(head, encoding, delimiter)
        elif kind in ("xlsx", "ods", "xls"):
            self._open_workbook(head)
        else:
            raise SourceFileError(self.path, f"kind {kind!r} is not read from files")

    @property
    def sha256(self) -> str:
        if self._sha256 is None:
            self._sha256 = file_sha256(self.path)
        return self._sha256

    @sha256.setter
    def sha256(self, value: str) -> None:
        self._sha256 = value

    # -- CSV -------------------------------------------------------------------------------
    def _open_csv(self, head: bytes, encoding: str, delimiter: str) -> None:
        if head.startswith(ZIP_SIGNATURES) or head.startswith(OLE_SIGNATURE):
            raise SourceFileError(self.path, "not a CSV: this is a workbook (zip/OLE2) file")
        if b"\x00" in head and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise SourceFileError(self.path, "not a CSV: binary content (NUL bytes)")
        # one pass over the bytes: the encoding checked (ASCII chunks need no decoding), the
        # lines counted and none longer than the limit
        self.encoding, newlines = _scan_csv(self.path, head, encoding, self.max_line_bytes)
        with self.path.open(encoding=self.encoding, newline="") as f:
            sample = f.read(65536)
            lines = sample.splitlines()[:50]
        self.line_count = newlines
        if not sample.strip():
            raise SourceFileError(self.path, "empty file (no text)")
        if not sample.endswith("\n"):
            self.line_count += 1
        self.line_count = max(self.line_count, 1)
        if delimiter == "auto":
            self.delimiter, self.width = sniff_delimiter(lines)
        else:
            self.delimiter = delimiter
            self.width = max((len(r) for r in csv.reader(lines, delimiter=delimiter)), default=1)
        self.sheet_names = [self.path.stem]

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with self.path.open(encoding=self.encoding, newline="") as f:
            reader = csv.reader(f, delimiter=self.delimiter)
            previous = 0
            try:
                for row in reader:
                    yield previous + 1, row
                    previous = reader.line_num
            except csv.Error as exc:
                raise SourceFileError(
                    self.path, f"CSV error at line {reader.line_num}: {exc}"
                ) from None

    # -- workbooks -------------------------------------------------------------------------
    def _open_workbook(self, head: bytes) -> None:
        from python_calamine import CalamineError, CalamineWorkbook, PasswordError

        if self.kind in ("xlsx", "ods"):
            self._dimensions = check_zip_workbook(self.path, head, self.size, self.kind)
        elif not head.startswith(OLE_SIGNATURE):
            raise SourceFileError(
                self.path,
                "not a workbook: an .xls must be an OLE2 file; this file is"
                f" {describe_content(head)} ({self.size:,} bytes)",
            )
        try:
            self._workbook = CalamineWorkbook.from_path(str(self.path))
        except PasswordError:
            raise SourceFileError(self.path, "encrypted workbook (password-protected)") from None
        except (CalamineError, OSError, ValueError) as exc:
            raise SourceFileError(self.path, f"corrupt workbook: {content_free(exc)}") from None
        self._metadata = {m.name: m for m in self._workbook.sheets_metadata}
        self.sheet_names = list(self._workbook.sheet_names)
        if not self.sheet_names:
            raise SourceFileError(self.path, "workbook has no sheets")

    def _visible(self, name: str) -> bool:
        meta = getattr(self, "_metadata", {}).get(name)
        return meta is None or str(meta.visible).endswith("Visible")

    def select(self, globs: tuple[str, ...] | list[str] = ()) -> list[str]:
        """Sheets whose names match any glob (case-insensitive); default the first visible."""
        if self.kind == "csv":
            return list(self.sheet_names)
        if not globs:
            visible = [n for n in self.sheet_names if self._visible(n)]
            return (visible or self.sheet_names)[:1]
        chosen = [
            n for n in self.sheet_names if any(fnmatch.fnmatch(n.lower(), g.lower()) for g in globs)
        ]
        if not chosen:
            raise SourceFileError(
                self.path,
                "no sheet matching "
                + ", ".join(repr(g) for g in globs)
                + "; the workbook has "
                + ", ".join(repr(n) for n in self.sheet_names),
            )
        return chosen

    def sheet(self, name: str) -> Sheet:
        if self.kind == "csv":
            cells = self.line_count * self.width
            self._check_cells(name, cells, self.line_count, self.width)
            return Sheet(name, self._csv_rows(), None, 0, cells)
        from python_calamine import CalamineError

        declared = self._dimensions.get(name)
        if declared is not None:  # refuse before python-calamine loads the sheet
            self._check_cells(name, declared[0] * declared[1], declared[0], declared[1])
            # a declared dimension far too small for the XML (some writers put `A1`) cannot
            # be trusted to size the rows: such a sheet is read whole
            plausible = declared[0] * declared[1] * _MAX_BYTES_PER_CELL >= declared[4]
            if declared[4] > self.stream_above_bytes and plausible:
                streamed = self._stream(name, declared)
                if streamed is not None:
                    return streamed
        try:
            sheet = self._workbook.get_sheet_by_name(name)
        except (CalamineError, OSError, ValueError) as exc:
            raise SourceFileError(
                self.path, f"corrupt workbook: sheet {name!r}: {content_free(exc)}"
            ) from None
        start, end = sheet.start, sheet.end
        if start is None or end is None:
            return Sheet(name, iter(()), [], 0, 0)
        # python-calamine's iter_rows starts at row 0 (top rows padded) and at the first
        # used column: row i is spreadsheet row i + 1, cell j is column start[1] + j.
        height, width = end[0] + 1, end[1] - start[1] + 1
        cells = height * width
        self._check_cells(name, cells, height, width)
        merged = sheet.merged_cell_ranges
        if merged is not None:
            merged = [((r0, c0 - start[1]), (r1, c1 - start[1])) for (r0, c0), (r1, c1) in merged]
        rows = ((i, row) for i, row in enumerate(sheet.iter_rows(), start=1))
        return Sheet(name, rows, merged, start[1], cells)

    def _stream(self, name: str, declared: tuple) -> Sheet | None:
        """A large worksheet read in chunks (`cakupan.sources.xlsx_stream`), or None when its
        XML does not allow it (then it is read whole)."""
        from cakupan.sources.xlsx_stream import NotStreamable, SheetStream

        height, width, part, first_col, _size = declared
        try:
            stream = SheetStream(
                self.path,
                part,
                sheet_name=name,
                first_col=first_col,
                width=width,
                chunk_bytes=self.chunk_bytes,
            )
        except NotStreamable:
            return None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError) as exc:
            raise SourceFileError(self.path, f"corrupt workbook: {part}: {exc}") from None
        self._streams.append(stream)
        return Sheet(name, stream.rows(), stream.merged, first_col, height * width)

    def _check_cells(self, name: str, cells: int, height: int, width: int) -> None:
        if cells > self.max_cells:
            what, lines = (
                ("the file", "lines") if self.kind == "csv" else (f"sheet {name!r}", "rows")
            )
            raise SourceFileError(
                self.path,
                f"{what} has {cells:,} cells ({height:,} {lines} x {width:,} columns),"
                f" over the limit of {self.max_cells:,}",
            )

    def close(self) -> None:
        if self._workbook is not None:
            try:
                self._workbook.close()
            except Exception:  # already closed
                pass
            self._workbook = None
        for stream in self._streams:
            stream.close()
        self._streams = []

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_source(path: str | Path, kind: str, **options: Any) -> SourceReader:
    """Check and open a source file (see the module docstring); raises `SourceFileError`."""
    return SourceReader(path, kind, **options)


__all__ = ["Sheet", "SourceReader", "column_letter", "open_source", "sniff_delimiter"]
