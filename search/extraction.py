"""Text inside uploaded documents (PDF, DOCX, PPTX, TXT), so a search finds what a training deck says.

Plain Python, no Django. ``extract_text(data, filename, limits)`` reads the text within hard limits:
pages (or slides), characters kept, the decompressed size of each PDF content stream, the unpacked
size of a DOCX/PPTX package and of each XML part in it (checked from the zip directory before
anything is parsed). ``extract_in_subprocess`` runs it in a child Python process with an address-space
and CPU limit and a wall-clock timeout that kills it, so a hostile file (a zip or deflate bomb, a
million paragraphs) costs the task worker at most ``Limits.seconds`` and never its memory.
``search.tasks`` drives it for the document model, outside the request.

Failures raise ``ExtractionFailed`` with the reason in Chinese, as editors read it on the document.
"""

import io
import json
import logging
import os
import signal
import subprocess
import sys
import warnings
import zipfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    """What one extraction may cost. Override per site with ``CALLBOOK_TEXT_EXTRACTION_LIMITS``."""

    seconds: int = 60  # wall clock, and CPU time of the child
    memory_mb: int = 512  # address space of the child (the interpreter and libraries take ~150 MB)
    file_mb: int = 25  # the uploaded file itself (uploads are capped at 20 MB)
    pages: int = 300  # PDF pages or PPTX slides read
    chars: int = 500_000  # characters of text kept
    stream_mb: int = 4  # one decompressed PDF content stream (a dense text page is ~0.1 MB)
    content_mb: int = 40  # all decompressed PDF content streams together
    unpacked_mb: int = 100  # a DOCX/PPTX package once unzipped, as its zip directory declares
    xml_part_mb: int = 10  # one XML part of a DOCX/PPTX (word/document.xml of ~2,000 pages of text)
    zip_members: int = 5000


@dataclass
class Extraction:
    """The text of a file, and notes on what the limits left out (in Chinese; empty when nothing was)."""

    text: str
    notes: list = field(default_factory=list)


class ExtractionFailed(Exception):
    """No text could be extracted; ``reason`` says why, in Chinese."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


MB = 1024 * 1024


def _check_package(data, limits):
    """Refuse a DOCX/PPTX whose zip directory declares more than the limits, before any part is read.

    The declared sizes bind: ``zipfile`` stops reading a member at its declared size (and then fails the
    CRC check), so a member cannot unpack to more than its directory entry says.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            members = package.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError) as error:
        raise ExtractionFailed("文件已损坏或不是有效的 Office 文档") from error
    if len(members) > limits.zip_members:
        raise ExtractionFailed(f"文件内含 {len(members)} 个部件，超过 {limits.zip_members} 个的上限")
    unpacked = sum(member.file_size for member in members)
    if unpacked > limits.unpacked_mb * MB:
        raise ExtractionFailed(
            f"文件解压后约 {unpacked // MB} MB，超过 {limits.unpacked_mb} MB 的上限（可能是压缩炸弹）"
        )
    for member in members:
        if member.filename.endswith((".xml", ".rels")) and member.file_size > limits.xml_part_mb * MB:
            raise ExtractionFailed(
                f"文件中的 {member.filename} 解压后约 {member.file_size // MB} MB，"
                f"超过 {limits.xml_part_mb} MB 的上限（可能是压缩炸弹）"
            )


class _Text:
    """Collects text parts until ``limits.chars`` characters; ``full`` says when to stop reading."""

    def __init__(self, limits, notes):
        self.limit = limits.chars
        self.notes = notes
        self.parts = []
        self.size = 0
        self.full = False

    def add(self, text):
        if self.full or not text:
            return
        self.parts.append(text)
        self.size += len(text) + 1
        if self.size > self.limit:
            self.full = True
            self.notes.append(f"文字超过 {self.limit} 字，只保留了前 {self.limit} 字")

    def __str__(self):
        return "\n".join(self.parts)


def _content_refs(page):
    """The content streams of a page, as object numbers (pages that share one give the same key)."""
    contents = page.get("/Contents")
    if contents is None:
        return ()
    items = contents if isinstance(contents, list) else [contents]
    return tuple(getattr(item, "idnum", id(item)) for item in items)


def _content_size(page):
    """Decompressed size of a page's content streams (decoded once; pypdf keeps the decoded data)."""
    contents = page.get("/Contents")
    if contents is None:
        return 0
    contents = contents.get_object()
    items = contents if isinstance(contents, list) else [contents]
    return sum(len(item.get_object().get_data()) for item in items)


def _pdf_text(data, limits, text):
    from pypdf import PdfReader, apply_configuration
    from pypdf.errors import LimitReachedError, PyPdfError

    stream_bytes = limits.stream_mb * MB
    configuration = {
        "maximum_declared_stream_length": limits.file_mb * MB,
        "zlib_maximum_output_length": stream_bytes,
        "lzw_maximum_output_length": stream_bytes,
        "run_length_maximum_output_length": stream_bytes,
        "array_based_stream_maximum_output_length": stream_bytes,
        "brotli_maximum_output_length": stream_bytes,
        "stream_decoding_work_maximum_length": 4 * stream_bytes,
    }
    with apply_configuration(**configuration):
        try:
            reader = PdfReader(io.BytesIO(data))
            if reader.is_encrypted and not reader.decrypt(""):
                raise ExtractionFailed("文件已加密，无法读取")
            pages = reader.pages
            total = len(pages)
        except ExtractionFailed:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise ExtractionFailed("文件已损坏或不是有效的 PDF") from error
        if total > limits.pages:
            text.notes.append(f"共 {total} 页，只提取了前 {limits.pages} 页")
        seen, skipped, content = set(), [], 0
        for number in range(min(total, limits.pages)):
            if text.full:
                break
            try:
                page = pages[number]
                refs = _content_refs(page)
                if refs and refs in seen:
                    continue  # the same content as an earlier page: the same text
                seen.add(refs)
                content += _content_size(page)
                if content > limits.content_mb * MB:
                    text.notes.append(
                        f"页面内容解压后超过 {limits.content_mb} MB，第 {number + 1} 页起未提取"
                    )
                    break
                text.add(page.extract_text() or "")
            except LimitReachedError:
                skipped.append(number + 1)
            except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError):
                skipped.append(number + 1)
        if skipped:
            shown = "、".join(str(number) for number in skipped[:10]) + ("等" if len(skipped) > 10 else "")
            text.notes.append(f"第 {shown} 页内容过大或无法解析，已略去")


def _docx_text(data, limits, text):
    import docx

    _check_package(data, limits)
    document = docx.Document(io.BytesIO(data))
    for paragraph in document.paragraphs:
        if text.full:
            return
        text.add(paragraph.text)
    for table in document.tables:
        for row in table.rows:
            if text.full:
                return
            text.add(" ".join(cell.text for cell in row.cells))


def _pptx_text(data, limits, text):
    from pptx import Presentation

    _check_package(data, limits)
    presentation = Presentation(io.BytesIO(data))
    slides = presentation.slides
    if len(slides) > limits.pages:
        text.notes.append(f"共 {len(slides)} 张幻灯片，只提取了前 {limits.pages} 张")
    for number, slide in enumerate(slides):
        if number >= limits.pages or text.full:
            return
        for shape in slide.shapes:
            if shape.has_text_frame:
                text.add(shape.text_frame.text)
            if getattr(shape, "has_table", False) and shape.has_table:
                for row in shape.table.rows:
                    text.add(" ".join(cell.text for cell in row.cells))
        if slide.has_notes_slide and slide.notes_slide.notes_text_frame is not None:
            text.add(slide.notes_slide.notes_text_frame.text)


def _txt_text(data, limits, text):
    data = data[: limits.chars * 4]  # no character takes more than 4 bytes
    for encoding in ("utf-8", "gb18030"):
        try:
            text.add(data.decode(encoding))
            return
        except UnicodeDecodeError as error:
            if encoding == "utf-8" and error.start >= len(data) - 3:
                text.add(data[: error.start].decode(encoding))  # cut inside a character
                return
    raise ExtractionFailed("文本文件的编码无法识别（支持 UTF-8 和 GB18030）")


EXTRACTORS = {".pdf": _pdf_text, ".docx": _docx_text, ".pptx": _pptx_text, ".txt": _txt_text}


def extension_of(filename):
    return os.path.splitext(filename or "")[1].lower()


def can_extract(filename):
    return extension_of(filename) in EXTRACTORS


def _clean(text, limit):
    lines = (line.strip() for line in text.replace("\x00", "").splitlines())
    return "\n".join(line for line in lines if line)[:limit]


def extract_text(data, filename, limits=Limits()):
    """The text of a PDF, DOCX, PPTX or TXT file (``data`` is its bytes), within ``limits``.

    In this process: only for trusted files, or inside ``extract_in_subprocess``. Raises
    ``ExtractionFailed`` for an unsupported, unreadable, oversized or textless file.
    """
    extractor = EXTRACTORS.get(extension_of(filename))
    if extractor is None:
        raise ExtractionFailed("不支持从这种文件中提取文字")
    if len(data) > limits.file_mb * MB:
        raise ExtractionFailed(f"文件超过 {limits.file_mb} MB，未提取")
    notes = []
    text = _Text(limits, notes)
    try:
        extractor(data, limits, text)
    except (ExtractionFailed, MemoryError, RecursionError):
        raise
    except Exception as error:
        if text.parts:  # what was read before the damage is kept
            notes.append("文件后半部分已损坏，只提取了前面的文字")
        else:
            raise ExtractionFailed("文件已损坏或格式无法识别") from error
    cleaned = _clean(str(text), limits.chars)
    if not cleaned:
        raise ExtractionFailed("；".join(notes) or "文件中没有可提取的文字（扫描件或图片中的文字无法提取）")
    return Extraction(cleaned, notes)


def extract_in_subprocess(data, filename, limits=Limits()):
    """``extract_text`` in a child process that the limits kill: the caller never hangs or runs out of
    memory, whatever the file. Raises ``ExtractionFailed`` as ``extract_text`` does, and when a limit
    stops the child."""
    # -E and a bare environment: the child parsing a hostile file sees no settings or secrets.
    options = json.dumps(asdict(limits))
    command = [sys.executable, "-E", "-s", "-m", "search.extraction", extension_of(filename), options]
    try:
        child = subprocess.run(
            command,
            input=data,
            capture_output=True,
            timeout=limits.seconds,
            cwd=PROJECT_ROOT,
            env={"PATH": os.environ.get("PATH", ""), "LC_ALL": "C.UTF-8"},
            check=False,
        )
    except subprocess.TimeoutExpired as error:  # subprocess.run has killed the child
        raise ExtractionFailed(
            f"提取超过 {limits.seconds} 秒仍未完成，已中止（文件可能过于复杂或经过恶意构造）"
        ) from error
    try:
        result = json.loads(child.stdout)
    except ValueError:
        result = None
    if child.returncode == 0 and isinstance(result, dict):
        if "error" in result:
            raise ExtractionFailed(result["error"])
        return Extraction(result["text"], result["notes"])
    logger.warning(
        "Text extraction of %s exited with %s: %s",
        filename,
        child.returncode,
        child.stderr[-2000:].decode(errors="replace"),
    )
    if child.returncode in (-signal.SIGKILL, -signal.SIGXCPU):  # the CPU limit
        raise ExtractionFailed(f"提取耗时超过 {limits.seconds} 秒，已中止（文件可能过于复杂或经过恶意构造）")
    raise ExtractionFailed(
        f"提取程序异常退出（代码 {child.returncode}），可能是所需内存超过 {limits.memory_mb} MB"
    )


def _limit_child(limits):
    import resource

    memory = limits.memory_mb * MB
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 5))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _peak_memory():
    """Peak address space of this process in bytes (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmPeak:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _child_main(argv):
    """The child of ``extract_in_subprocess``: file on stdin, a JSON result on stdout."""
    limits = Limits(**json.loads(argv[2]))
    _limit_child(limits)
    # A damaged file makes pypdf warn once per broken object: nobody reads the child's stderr but the
    # last lines after a crash.
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    data = sys.stdin.buffer.read(limits.file_mb * MB + 1)
    out_of_memory = {"error": f"提取所需内存超过 {limits.memory_mb} MB，已中止（文件可能过大或经过恶意构造）"}
    try:
        extraction = extract_text(data, "file" + argv[1], limits)
        result = {"text": extraction.text, "notes": extraction.notes}
    except ExtractionFailed as failure:
        # Parsers report a failed allocation as a parse error (lxml: "unknown error"): a failure that
        # came with the address space at its limit was the limit.
        result = {"error": failure.reason}
        if _peak_memory() > limits.memory_mb * MB - 32 * MB:
            result = out_of_memory
    except MemoryError:
        result = out_of_memory
    except RecursionError:
        result = {"error": "文件结构嵌套过深，无法提取"}
    sys.stdout.buffer.write(json.dumps(result).encode("ascii"))


if __name__ == "__main__":
    _child_main(sys.argv)
