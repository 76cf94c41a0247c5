"""Read a large .xlsx worksheet in row chunks, so memory stays bounded whatever the row count.

python-calamine parses a whole sheet into memory before the first row comes out: about 620 MB
for a sheet of a million rows and 8 columns. For a worksheet whose XML is larger than
`STREAM_ABOVE_BYTES`, `stream_sheet` instead

1. inflates the worksheet's XML as a stream and cuts it at row boundaries (`</row>`) into
   chunks of about `CHUNK_BYTES`;
2. wraps each chunk in a small uncompressed workbook in memory, with the workbook's own
   `workbook.xml` (date system), `styles.xml` (which numbers are dates) and shared strings, so
   python-calamine reads each cell exactly as it would in the whole file;
3. parses the chunks in two background threads, a few chunks ahead of the rows being consumed
   and handed on in file order (python-calamine releases the GIL while it parses, so on two
   cores the parse overlaps the work done with the rows); and
4. yields the rows as `SourceReader.sheet` does for a whole sheet: every row number from 1
   (rows without cells as empty cells), each row as wide as the sheet's declared
   `<dimension>`, columns counted from its first column.

The merged cell ranges (which flatten a two-row header) stand after the rows in the XML; a
second thread reads them while the first chunks are parsed.

A worksheet whose XML does not have the plain layout this relies on (an unprefixed
`<sheetData>`, `r` attributes on rows, a `<dimension>`) is read whole, as before:
`NotStreamable` says why. A chunk python-calamine cannot parse raises `SourceFileError`
(`corrupt workbook: sheet ...`), worded as the whole-sheet path words it, with no cell text.
"""

from __future__ import annotations

import io
import queue
import re
import threading
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from cakupan.sources.cells import column_letter, column_number
from cakupan.sources.errors import SourceFileError, content_free

STREAM_ABOVE_BYTES = 16 * 1024 * 1024  # worksheet XML, uncompressed
CHUNK_BYTES = 4 * 1024 * 1024
PARSERS = 2  # chunks parsed at once: calamine releases the GIL, so a second one fills the gaps
_READ = 1024 * 1024
_SHEET_DATA = re.compile(rb"<sheetData\s*>")
_DIMENSION_ELEMENT = re.compile(rb"<dimension\b[^>]*/>")
_MERGE_CELL = re.compile(rb'<mergeCell\s+ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')
_ROW_WITH_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')
_END = b"</sheetData>"
_ROW_END = b"</row>"
# the parts a chunk's workbook needs: python-calamine reads these when it opens a workbook
_WORKBOOK_PARTS = (
    "[Content_Types].xml",
    "_rels/.rels",
    "xl/workbook.xml",
    "xl/_rels/workbook.xml.rels",
    "xl/styles.xml",
    "xl/sharedStrings.xml",
)


class NotStreamable(Exception):
    """The worksheet cannot be cut into chunks safely; read it whole."""


class _Chunks:
    """The worksheet XML as (prefix, rows) pieces, each rows piece ending with a whole row."""

    def __init__(self, zf: zipfile.ZipFile, part: str, chunk_bytes: int):
        self.member = zf.open(part)
        self.chunk_bytes = chunk_bytes
        head = b""
        while True:
            data = self.member.read(_READ)
            head += data
            match = _SHEET_DATA.search(head)
            if match or not data or len(head) > 8 * _READ:
                break
        if match is None:
            self.member.close()
            raise NotStreamable("no plain <sheetData> element")
        prefix = head[: match.end()]
        if b"<worksheet" not in prefix:
            self.member.close()
            raise NotStreamable("the worksheet element has a namespace prefix")
        self.prefix = _DIMENSION_ELEMENT.sub(b"", prefix, count=1)
        self.head = self.prefix[: _SHEET_DATA.search(self.prefix).start()]
        self.rest = head[match.end() :]
        first_row = _ROW_WITH_NUMBER.search(self.rest[:65536])
        if first_row is None and _ROW_END in self.rest[:65536]:
            self.member.close()
            raise NotStreamable("rows without their r= number")

    def __iter__(self) -> Iterator[bytes]:
        buffer = bytearray(self.rest)
        self.rest = b""
        size = self.chunk_bytes
        need = size
        at_end = False
        while True:
            while len(buffer) < need and not at_end:
                data = self.member.read(_READ)
                if not data:
                    at_end = True
                    break
                start = max(len(buffer) - len(_END), 0)
                buffer += data
                if buffer.find(_END, start) >= 0:
                    break
            end = buffer.find(_END)
            limit = end if end >= 0 else len(buffer)
            if limit > size:  # a chunk's worth of whole rows
                cut = buffer.rfind(_ROW_END, 0, size)
                if cut < 0:  # a row longer than a chunk
                    cut = buffer.find(_ROW_END, 0, limit)
                if cut >= 0:
                    cut += len(_ROW_END)
                    body = bytes(buffer[:cut])
                    del buffer[:cut]
                    need = size
                    if body.strip():
                        yield body
                    continue
            if end >= 0:
                body = bytes(buffer[:end])
                if body.strip():
                    yield body
                break
            if at_end:
                raise NotStreamable("the worksheet's XML ends before </sheetData>")
            need = len(buffer) + size  # read on
        self.member.close()


def _merged_ranges(path: Path, part: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """Merged ranges (0-based, inclusive) from the `<mergeCells>` after the worksheet's rows."""
    tail = b""
    found: list[tuple[tuple[int, int], tuple[int, int]]] = []
    with zipfile.ZipFile(path) as zf, zf.open(part) as member:
        after_rows = False
        while True:
            data = member.read(_READ)
            if not data:
                break
            if not after_rows:
                window = tail + data
                at = window.find(_END)
                if at < 0:
                    tail = window[-len(_END) :]
                    continue
                after_rows = True
                tail = window[at:]
            else:
                tail += data
        for m in _MERGE_CELL.finditer(tail):
            r0, c0 = int(m[2]) - 1, column_number(m[1]) - 1
            r1 = int(m[4]) - 1 if m[4] else r0
            c1 = column_number(m[3]) - 1 if m[3] else c0
            found.append(((r0, c0), (r1, c1)))
    return found


class SheetStream:
    """Rows of one worksheet, parsed chunk by chunk in a background thread."""

    def __init__(
        self,
        path: Path,
        part: str,
        *,
        sheet_name: str,
        first_col: int,
        width: int,
        chunk_bytes: int = CHUNK_BYTES,
    ):
        self.path = path
        self.part = part
        self.sheet_name = sheet_name
        self.first_col = first_col
        self.width = width
        zf = zipfile.ZipFile(path)
        try:
            names = set(zf.namelist())
            self.parts = {name: zf.read(name) for name in _WORKBOOK_PARTS if name in names}
            rels = part.replace("worksheets/", "worksheets/_rels/") + ".rels"
            if rels in names:
                self.parts[rels] = zf.read(rels)
            strings = len(self.parts.get("xl/sharedStrings.xml", b""))
            # every chunk's workbook parses the shared strings again: keep that a small share
            self.chunks = _Chunks(zf, part, max(chunk_bytes, 4 * strings))
        except BaseException:
            zf.close()
            raise
        self._zf = zf
        self.merged: Future = Future()
        self._stop = threading.Event()
        self._workbooks: queue.Queue = queue.Queue(maxsize=PARSERS)
        self._queue: queue.Queue = queue.Queue(maxsize=PARSERS + 1)
        self._threads = [
            threading.Thread(target=self._read_merged, name="xlsx-merged", daemon=True),
            threading.Thread(target=self._split, name="xlsx-split", daemon=True),
        ] + [
            threading.Thread(target=self._parse, name=f"xlsx-parse-{i}", daemon=True)
            for i in range(PARSERS)
        ]
        for thread in self._threads:
            thread.start()

    def _read_merged(self) -> None:
        try:
            shift = self.first_col
            self.merged.set_result(
                [
                    ((r0, c0 - shift), (r1, c1 - shift))
                    for (r0, c0), (r1, c1) in _merged_ranges(self.path, self.part)
                ]
            )
        except BaseException as exc:  # reported where the ranges are used
            self.merged.set_exception(exc)

    def _workbook(self, body: bytes) -> io.BytesIO:
        at = body.find(b"<row")
        first = _ROW_WITH_NUMBER.match(body, at) if at >= 0 else None
        if at >= 0 and first is None:  # calamine would number this chunk's rows from 1
            raise NotStreamable("rows without their r= number")
        last = None
        at = body.rfind(b"<row", max(len(body) - 65536, 0))
        if at >= 0:
            last = _ROW_WITH_NUMBER.match(body, at)
        prefix = self.chunks.prefix
        if first is not None and last is not None:
            # calamine sizes its cell buffer by the dimension: the chunk's own rows
            left = column_letter(self.first_col)
            right = column_letter(self.first_col + self.width - 1)
            ref = f"{left}{int(first[1])}:{right}{int(last[1])}"
            prefix = self.chunks.head + b'<dimension ref="' + ref.encode() + b'"/><sheetData>'
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
            for name, content in self.parts.items():
                z.writestr(name, content)
            z.writestr(self.part, prefix + body + b"</sheetData></worksheet>")
        out.seek(0)
        return out

    def _put(self, target: queue.Queue, item: Any) -> bool:
        while not self._stop.is_set():
            try:
                target.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _get(self, source: queue.Queue) -> Any:
        while not self._stop.is_set():
            try:
                return source.get(timeout=0.2)
            except queue.Empty:
                continue
        return None

    def _split(self) -> None:
        try:
            for seq, body in enumerate(self.chunks):
                if not self._put(self._workbooks, (seq, self._workbook(body))):
                    return
            for _ in range(PARSERS):  # one end mark per parsing thread
                self._put(self._workbooks, None)
        except BaseException as exc:  # a parsing thread hands it on to the consuming thread
            self._put(self._workbooks, exc)
        finally:
            self._zf.close()

    def _parse(self) -> None:
        from python_calamine import CalamineWorkbook

        try:
            while not self._stop.is_set():
                item = self._get(self._workbooks)
                if item is None or isinstance(item, BaseException):
                    self._put(self._queue, item)
                    return
                seq, data = item
                del item
                workbook = CalamineWorkbook.from_filelike(data)
                del data
                try:
                    sheet = workbook.get_sheet_by_index(0)
                    start = sheet.start
                    rows = sheet.to_python(skip_empty_area=True) if start is not None else []
                finally:
                    workbook.close()
                if not self._put(self._queue, (seq, start, rows)):
                    return
                del rows
        except BaseException as exc:  # handed to the consuming thread
            self._put(self._queue, exc)

    def _chunk_rows(self) -> Iterator[tuple[tuple[int, int], list[list[Any]]]]:
        """The parsed chunks in file order (the parsing threads may finish them out of order)."""
        pending: dict[int, tuple] = {}
        next_seq = 0
        finished = 0
        while True:
            while next_seq not in pending:
                if finished == PARSERS:
                    if pending:  # pragma: no cover - a chunk lost between threads
                        raise RuntimeError(f"chunk {next_seq} of {self.part} was not parsed")
                    return
                item = self._queue.get()
                if item is None:
                    finished += 1
                    continue
                if isinstance(item, BaseException):
                    if isinstance(item, NotStreamable):
                        raise SourceFileError(
                            self.path, f"sheet {self.sheet_name!r} cannot be read: {item}"
                        )
                    if _corrupt(item):  # reported as the whole-sheet path reports it
                        raise SourceFileError(
                            self.path,
                            f"corrupt workbook: sheet {self.sheet_name!r}: {content_free(item)}",
                        ) from None
                    raise item
                seq, start, rows = item
                pending[seq] = (start, rows)
            start, rows = pending.pop(next_seq)
            next_seq += 1
            if start is not None:
                yield start, rows

    def close(self) -> None:
        self._stop.set()

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number, cells) from row 1, as wide as the sheet, as the whole-sheet path."""
        width, first_col = self.width, self.first_col
        blank = [""] * width
        expected = 1
        try:
            for (start_row, start_col), rows in self._chunk_rows():
                shift = start_col - first_col
                for i, cells in enumerate(rows):
                    number = start_row + i + 1
                    while expected < number:
                        yield expected, list(blank)
                        expected += 1
                    if shift or len(cells) != width:
                        cells = self._align(cells, shift, number)
                    yield number, cells
                    expected = number + 1
        finally:
            self.close()

    def _align(self, cells: list[Any], shift: int, number: int) -> list[Any]:
        if shift > 0:
            cells = [""] * shift + cells
        elif shift < 0:
            if any(v != "" for v in cells[:-shift]):
                self._outside(number, self.first_col + shift)
            cells = cells[-shift:]
        if len(cells) > self.width:
            if any(v != "" for v in cells[self.width :]):
                self._outside(number, self.first_col + self.width)
            cells = cells[: self.width]
        elif len(cells) < self.width:
            cells = cells + [""] * (self.width - len(cells))
        return cells

    def _outside(self, number: int, column: int) -> None:
        first = column_letter(self.first_col)
        last = column_letter(self.first_col + self.width - 1)
        raise SourceFileError(
            self.path,
            f"sheet {self.sheet_name!r}: row {number} has a value in column"
            f" {column_letter(column)}, outside the sheet's declared dimension"
            f" (columns {first}-{last}); open and save the workbook again to correct it",
        )


def _corrupt(exc: BaseException) -> bool:
    """A parser's or the zip's error over a chunk: the file is at fault, not the program."""
    from python_calamine import CalamineError

    return isinstance(exc, CalamineError | zipfile.BadZipFile | zlib.error | EOFError | KeyError)


__all__ = ["CHUNK_BYTES", "STREAM_ABOVE_BYTES", "NotStreamable", "SheetStream"]
