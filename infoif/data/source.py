"""Where a table's bytes come from, what they are, and how they decode.

`Source` reads a path, bytes or a file-like object (Streamlit's
`UploadedFile`) without copying more than needed. `reject_binary` knows the
magic numbers of files that are not tables (images, archives, workbooks);
`detect_encoding` finds how text is encoded (BOMs, UTF-16 without a BOM,
UTF-8, then the common legacy code pages), and `chosen_encoding` checks an
encoding a person chose. `check_text` refuses binary data and web pages with
a text file's name.
"""

from __future__ import annotations

import codecs
import os
import re
from dataclasses import dataclass

import pyarrow as pa

from infoif.data.errors import DataError, quote, size_text
from infoif.data.limits import EXCEL_EXTENSIONS

__all__ = [
    "Source",
    "Encoding",
    "ENCODINGS",
    "detect_encoding",
    "chosen_encoding",
    "reject_binary",
    "decode_head",
    "check_text",
]


class Source:
    """The bytes to read, from a path, a bytes object or a file-like object."""

    def __init__(self, source, filename: str | None, max_bytes: int | None):
        self.path = None
        self.data = None
        name = filename
        if isinstance(source, (str, os.PathLike)):
            path = os.fspath(source)
            if not os.path.exists(path):
                raise DataError(f"The file {quote(path)} does not exist. Check the name and folder.")
            if os.path.isdir(path):
                raise DataError(f"{quote(path)} is a folder, not a file. Choose a file inside it.")
            self.path = path
            self.size = os.path.getsize(path)
            name = name or os.path.basename(path)
            self._check_size(name, max_bytes)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self.data = source if isinstance(source, bytes) else bytes(source)
            self.size = len(self.data)
            self._check_size(name, max_bytes)
        elif hasattr(source, "read"):
            name = name or getattr(source, "name", None)
            if isinstance(name, str):
                name = os.path.basename(name)
            size = getattr(source, "size", None)
            if isinstance(size, int):
                self.size = size
                self._check_size(name, max_bytes)
            if hasattr(source, "getvalue"):
                data = source.getvalue()
            else:
                if hasattr(source, "seek"):
                    try:
                        source.seek(0)
                    except (OSError, ValueError):
                        pass
                data = source.read() if max_bytes is None else source.read(max_bytes + 1)
            if isinstance(data, str):
                data = data.encode("utf-8")
            self.data = bytes(data)
            self.size = len(self.data)
            self._check_size(name, max_bytes)
        else:
            raise TypeError(
                "`source` must be a path, bytes or a file-like object with .read(). "
                f"Received: source={type(source).__name__}"
            )
        self.name = str(name) if name else "the uploaded data"
        self.ext = os.path.splitext(self.name)[1].lower() if name else ""

    def _check_size(self, name, max_bytes):
        if max_bytes is not None and self.size > max_bytes:
            shown = quote(os.path.basename(str(name))) if name else "The file"
            raise DataError(
                f"{shown} is {size_text(self.size)}, more than the {size_text(max_bytes)} limit. "
                "Use a smaller file, for example a random sample of its rows."
            )

    def head(self, n: int) -> bytes:
        if self.data is not None:
            return self.data[:n]
        with open(self.path, "rb") as f:
            return f.read(n)

    def chunks(self, size: int = 1 << 20):
        if self.data is not None:
            view = memoryview(self.data)
            for i in range(0, len(view), size):
                yield view[i : i + size].tobytes()
            return
        with open(self.path, "rb") as f:
            while chunk := f.read(size):
                yield chunk

    def read_all(self) -> bytes:
        if self.data is not None:
            return self.data
        with open(self.path, "rb") as f:
            return f.read()

    def text(self, encoding: "Encoding") -> str:
        """The whole file decoded (bad bytes replaced), without a BOM."""
        return self.read_all().decode(encoding.python, errors="replace").lstrip("\ufeff")

    def arrow(self):
        if self.data is not None:
            return pa.BufferReader(self.data)
        return pa.OSFile(self.path)


# --- Magic numbers ---------------------------------------------------------------------------

_MAGIC = [
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole"),
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"%PDF", "a PDF document"),
    (b"\x1f\x8b", "gzip"),
    (b"BZh9", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program (ELF executable)"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"ARROW1", "an Arrow/Feather file"),
    (b"\x00\x00\x00\x1cftyp", "a video or image (MP4/HEIC)"),
    (b"\x00\x00\x00\x18ftyp", "a video or image (MP4/HEIC)"),
    (b"\x00\x00\x00 ftyp", "a video or image (MP4/HEIC)"),
    (b"ID3", "an MP3 audio file"),
    (b"OggS", "an Ogg audio file"),
    (b"\x00\x00\x01\x00", "an icon image"),
]
_SAVE_AS = "In your spreadsheet program use File › Save As (or Download) › CSV, then upload that file."
PARQUET_MAGIC = b"PAR1"


def reject_binary(head: bytes, src: Source) -> None:
    """Raises `DataError` when the first bytes say the file is not a table."""
    if head.startswith(b"RIFF"):
        raise DataError(f"{quote(src.name)} is a media file (image, audio or video), not a table. {_SAVE_AS}")
    for magic, what in _MAGIC:
        if not head.startswith(magic):
            continue
        if what == "zip":
            if src.ext in EXCEL_EXTENSIONS or b"xl/" in head[:2000] or b"[Content_Types]" in head[:2000]:
                raise DataError(
                    f"{quote(src.name)} is an Excel or OpenDocument workbook (a ZIP archive inside), "
                    f"not a CSV file. {_SAVE_AS}"
                )
            raise DataError(
                f"{quote(src.name)} is a ZIP archive (compressed), not a table. Unzip it and upload "
                "the CSV, TSV, Parquet or JSON file inside."
            )
        if what == "ole":
            raise DataError(
                f"{quote(src.name)} is an old-style Excel (.xls) or Office document, not a CSV file. {_SAVE_AS}"
            )
        if what == "gzip":
            raise DataError(
                f"{quote(src.name)} is compressed with gzip. Decompress it (it is usually named "
                "*.csv.gz) and upload the CSV file inside."
            )
        raise DataError(f"{quote(src.name)} is {what}, not a table. Upload a CSV, TSV, Parquet or JSON file.")
    if src.ext in EXCEL_EXTENSIONS:
        raise DataError(
            f"{quote(src.name)} is a spreadsheet workbook; it cannot be read directly. In your "
            "spreadsheet program use File › Save As › CSV, then upload that file."
        )


# --- Encodings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Encoding:
    python: str  # codec for Python
    arrow: str  # codec for pyarrow's CSV reader ("utf8" or a Python codec name)
    label: str  # for people
    wide: bool = False  # UTF-16/32: NUL bytes are normal

    @property
    def is_unicode(self) -> bool:
        return self.python.startswith(("utf-8", "utf-16", "utf-32"))


_UTF8 = Encoding("utf-8", "utf8", "UTF-8")
_UTF8_BOM = Encoding("utf-8-sig", "utf8", "UTF-8 with BOM")

# The encodings a person can choose (codec -> label), most common first.
ENCODINGS = {
    "utf-8": "UTF-8",
    "cp1252": "Windows-1252 (Western European)",
    "latin-1": "Latin-1 (ISO-8859-1)",
    "cp1250": "Windows-1250 (Central European)",
    "cp1251": "Windows-1251 (Cyrillic)",
    "koi8-r": "KOI8-R (Russian)",
    "cp1253": "Windows-1253 (Greek)",
    "cp1254": "Windows-1254 (Turkish)",
    "cp1255": "Windows-1255 (Hebrew)",
    "cp1256": "Windows-1256 (Arabic)",
    "cp1257": "Windows-1257 (Baltic)",
    "shift_jis": "Shift-JIS (Japanese)",
    "cp932": "Windows-31J (Japanese, Shift-JIS with Windows characters)",
    "euc-jp": "EUC-JP (Japanese)",
    "gb18030": "GB18030 (Chinese, simplified)",
    "big5": "Big5 (Chinese, traditional)",
    "euc-kr": "EUC-KR (Korean)",
    "utf-16": "UTF-16",
}


def _label(codec: str) -> str:
    return ENCODINGS.get(codec, codec.upper())


def _codec_name(name: str) -> str:
    """A codec's canonical name ('windows-1251' -> 'cp1251'), or ValueError."""
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError):
        raise ValueError(
            f"`encoding` must be the name of a text encoding, such as {list(ENCODINGS)[:5]}. "
            f"Received: encoding={name!r}"
        ) from None
    canonical = {"iso8859-1": "latin-1", "shift-jis": "shift_jis", "euc_jp": "euc-jp", "euc_kr": "euc-kr"}
    return canonical.get(info.name, info.name)


def _first_bad_byte(src: Source, codec: str, skip: int = 0) -> tuple[int, int] | None:
    """(byte offset, line number) where the file stops being valid `codec`, or None if it all decodes."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset, lines, first = 0, 1, True
    try:
        for chunk in src.chunks():
            if first:
                chunk, first, offset = chunk[skip:], False, skip
            if codec == "utf-8" and chunk.isascii() and not decoder.getstate()[0]:
                offset += len(chunk)
                lines += chunk.count(b"\n")
                continue
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                at = max(0, exc.start)
                return offset + at, lines + chunk.count(b"\n", 0, at)
            offset += len(chunk)
            lines += chunk.count(b"\n")
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset, lines
    return None


def _valid(src: Source, codec: str, skip: int = 0) -> bool:
    """Whether the whole file decodes with `codec` (read in 1 MB chunks, nothing kept)."""
    return _first_bad_byte(src, codec, skip) is None


def _wide_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when the sample looks like UTF-16 text without a BOM."""
    sample = head[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even = even.count(0) / len(even)
    nul_odd = odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.02:
        return "utf-16-le"
    if nul_even > 0.3 and nul_odd < 0.02:
        return "utf-16-be"
    return None


_WORD = re.compile(r"[^\W\d_]+")


def _script_share(text: str, lo: int, hi: int) -> tuple[int, float]:
    """(words with letters from U+lo..U+hi, share of those words made of such letters only).

    Text of another code page read as Windows-1251 puts lone Cyrillic letters
    inside Latin words ('cafй'); real Cyrillic text has whole Cyrillic words.
    """
    words = [w for w in _WORD.findall(text) if any(lo <= ord(c) <= hi for c in w)]
    if not words:
        return 0, 0.0
    pure = sum(all(lo <= ord(c) <= hi for c in w) for w in words)
    return len(words), pure / len(words)


def _common_cyrillic(text: str) -> float:
    """Share of the ten commonest Russian letters among the Cyrillic ones (about 0.6 in real
    text; Chinese or Korean bytes read as Windows-1251 spread over all letters and signs)."""
    letters = [c for c in text.lower() if 0x0400 <= ord(c) <= 0x04FF]
    return sum(c in "оеаинтсрвл" for c in letters) / len(letters) if letters else 0.0


def _kana_share(text: str) -> tuple[int, float]:
    """(non-ASCII characters, share of them that are Japanese kana or kanji)."""
    wide = [c for c in text if ord(c) > 127]
    if not wide:
        return 0, 0.0
    japanese = sum(0x3040 <= ord(c) <= 0x30FF or 0x4E00 <= ord(c) <= 0x9FFF or 0xFF00 <= ord(c) <= 0xFFEF
                   for c in wide)
    kana = sum(0x3040 <= ord(c) <= 0x30FF for c in wide)
    return len(wide), (japanese / len(wide)) if kana else 0.0


def _legacy(head: bytes, src: Source) -> Encoding:
    """The code page of a file that is not UTF-8: Shift-JIS or Windows-1251 when the text
    clearly reads as Japanese or Cyrillic words, else Windows-1252, else Shift-JIS when
    that reads it, else Latin-1 (which reads anything). A person can choose another."""
    sample = head[:SAMPLE_FOR_GUESS]
    for codec in ("cp932", "cp1251"):
        try:
            text = sample.decode(codec)
        except UnicodeDecodeError:
            # A cut sample may end inside a two-byte character; one more try without it.
            try:
                text = sample[:-1].decode(codec)
            except UnicodeDecodeError:
                continue
        if codec == "cp932":
            n, share = _kana_share(text)
            plausible = n >= 4 and share >= 0.9
        else:
            n, share = _script_share(text, 0x0400, 0x04FF)
            plausible = n >= 3 and share >= 0.8 and _common_cyrillic(text) >= 0.4
        if plausible and _valid(src, codec):
            label = "Shift-JIS (Japanese)" if codec == "cp932" else _label(codec)
            return Encoding(codec, codec, label)
    if _valid(src, "cp1252"):
        return Encoding("cp1252", "cp1252", "Windows-1252 (Latin-1)")
    if _valid(src, "cp932"):  # bytes Windows-1252 leaves undefined: most often Japanese
        return Encoding("cp932", "cp932", "Shift-JIS (Japanese)")
    return Encoding("latin-1", "latin-1", "Latin-1 (ISO-8859-1)")


SAMPLE_FOR_GUESS = 16 * 1024


def detect_encoding(head: bytes, src: Source) -> Encoding:
    """The encoding of a text file: a BOM, UTF-16 without a BOM, UTF-8, else a legacy code page."""
    boms = [
        (b"\xff\xfe\x00\x00", "utf-32", "UTF-32 with BOM"),
        (b"\x00\x00\xfe\xff", "utf-32", "UTF-32 with BOM"),
        (b"\xff\xfe", "utf-16", "UTF-16 with BOM"),
        (b"\xfe\xff", "utf-16", "UTF-16 with BOM"),
    ]
    for bom, codec, label in boms:
        if head.startswith(bom):
            if not _valid(src, codec):
                raise DataError(
                    f"{quote(src.name)} starts like {label.split(' ')[0]} text but is not valid "
                    f"{label.split(' ')[0]}. Save it again as 'CSV UTF-8'."
                )
            return Encoding(codec, codec, label, wide=True)
    if head.startswith(b"\xef\xbb\xbf"):
        if _valid(src, "utf-8", skip=3):
            return _UTF8_BOM
    else:
        wide = _wide_without_bom(head)
        if wide and _valid(src, wide):
            return Encoding(wide, wide, wide.upper().replace("-LE", " (little-endian)")
                            .replace("-BE", " (big-endian)"), wide=True)
        if _valid(src, "utf-8"):
            return _UTF8
    return _legacy(head, src)


def chosen_encoding(name: str, src: Source) -> Encoding:
    """The encoding a person chose, checked against the whole file.

    Raises `ValueError` for a name that is no encoding, and `DataError` when
    the file is not valid in it (with the line, so the person can look).
    """
    codec = _codec_name(name)
    wide = codec.startswith(("utf-16", "utf-32"))
    skip = 3 if codec == "utf-8" and src.head(3) == b"\xef\xbb\xbf" else 0
    bad = _first_bad_byte(src, codec, skip)
    if bad is not None:
        offset, line = bad
        raise DataError(
            f"{quote(src.name)} is not valid {_label(codec)} text: the bytes at line {line:,} "
            f"(byte {offset:,}) mean nothing in it. Choose another encoding, or let the app "
            "detect it."
        )
    if skip:
        return _UTF8_BOM
    arrow = "utf8" if codec == "utf-8" else codec
    return Encoding(codec, arrow, _label(codec), wide=wide)


# --- Text that is not a table ----------------------------------------------------------------


def _find_nul(src: Source) -> tuple[int, int] | None:
    """(byte offset, line number) of the first NUL byte, or None."""
    offset, lines = 0, 1
    for chunk in src.chunks():
        i = chunk.find(b"\x00")
        if i >= 0:
            return offset + i, lines + chunk.count(b"\n", 0, i)
        offset += len(chunk)
        lines += chunk.count(b"\n")
    return None


def decode_head(head: bytes, enc: Encoding) -> str:
    """The first bytes as text (a character cut at the end is left out)."""
    decoder = codecs.getincrementaldecoder(enc.python)(errors="replace")
    return decoder.decode(head, final=False)


def check_text(text: str, src: Source, enc: Encoding) -> None:
    """Refuses binary data and web pages that have a text file's name."""
    if not enc.wide:
        nul = _find_nul(src)
        if nul is not None:
            raise DataError(
                f"{quote(src.name)} contains NUL bytes (the first on line {nul[1]:,}, byte "
                f"{nul[0]:,}), which text tables never contain: it is probably a binary file "
                "(a spreadsheet, database or image) with a text file's name. Export the data as "
                "CSV and upload that file."
            )
    if text:
        # C0 controls and DEL; not C1 (U+0080-009F): that is text in another code page read as
        # Latin-1, which the person can fix by choosing the encoding.
        bad = sum(1 for ch in text if (ord(ch) < 32 and ch not in "\t\n\r\f\v") or ord(ch) == 0x7F)
        if bad > max(2, 0.01 * len(text)):
            raise DataError(
                f"{quote(src.name)} does not look like text: {bad:,} of its first {len(text):,} "
                "characters are control characters. It is probably a binary file. Upload a CSV, "
                "TSV, Parquet or JSON file."
            )
    start = text.lstrip().lower()
    if start.startswith(("<!doctype html", "<html", "<?xml", "<svg", "<table", "<head", "<body")):
        raise DataError(
            f"{quote(src.name)} is a web page or XML document, not a table. If your table is on a "
            "web page, copy it into a spreadsheet and save that as CSV."
        )
