"""Files uploaded by browsers (``POST _f/``) or by the app (``q.site.upload``), kept as ``<root>/<uuid>/<name>``.

Every path that comes from outside is checked to stay inside ``root``: names are reduced to their last component and
anything that still resolves elsewhere is refused. A browser's upload streams to disk part by part as it arrives
(``python-multipart``), so its size costs disk, not memory, and a bad body leaves nothing behind. Files a browser sent
are *untrusted*: the server hands them out as attachments in a sandbox, never as pages of the app. Only what the app
itself published (``q.site.upload``) is trusted, and only while this store lives.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

#: The most file parts one upload may hold, and the longest file name (bytes, as most file systems allow).
MAX_PARTS = 1000
MAX_NAME = 255
#: Folders within an uploaded folder.
MAX_DEPTH = 32


class UploadError(ValueError):
    """A bad upload: the sender gets this message with a 4xx status."""


def safe_name(filename: str) -> str:
    """The file's own name, never a path: browsers may send ``C:\\fakepath\\x`` or ``../../etc/passwd``."""
    name = filename.replace('\\', '/').rsplit('/', 1)[-1].strip()
    if name in ('', '.', '..') or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise UploadError(f'bad file name {filename[:80]!r}: empty, a dot name or a control character')
    if len(name.encode()) > MAX_NAME:
        raise UploadError(f'file name too long: {len(name.encode())} bytes (the limit is {MAX_NAME})')
    return name


class UploadStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        #: Keys (``<uuid>``) of what the app published; everything else is served as an attachment.
        self.trusted: set[str] = set()

    def receive(self, content_type: str, one_folder: bool = False) -> MultipartUpload:
        """A sink for one ``multipart/form-data`` body; raises :class:`UploadError` for a bad content type."""
        return MultipartUpload(self, content_type, one_folder)

    def is_untrusted(self, relative: str) -> bool:
        return relative.lstrip('/').split('/', 1)[0] not in self.trusted

    def new_folder(self) -> tuple[str, Path]:
        key = str(uuid.uuid4())
        folder = self.root / key
        folder.mkdir()
        return key, folder

    def copy_in(self, paths: list[str]) -> list[str]:
        """``q.site.upload``: copy local files in, one folder each."""
        out = []
        for p in paths:
            key, folder = self.new_folder()
            self.trusted.add(key)
            shutil.copyfile(p, folder / os.path.basename(p))
            out.append(f'{key}/{os.path.basename(p)}')
        return out

    def copy_dir_in(self, directory: str) -> str:
        """``q.site.upload_dir``: the whole tree under one key."""
        key = str(uuid.uuid4())
        self.trusted.add(key)
        shutil.copytree(directory, self.root / key)
        return key

    def resolve(self, relative: str) -> Path:
        """The stored file for ``<uuid>/<name...>``; refuses anything outside the store."""
        path = (self.root / relative.lstrip('/')).resolve()
        if path == self.root or self.root not in path.parents:
            raise UploadError(f'no such upload: {relative!r}')
        return path

    def delete(self, relative: str) -> None:
        path = self.resolve(relative)
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
            if path.parent != self.root and not any(path.parent.iterdir()):
                path.parent.rmdir()
        else:
            raise UploadError(f'no such upload: {relative!r}')


def safe_relative(filename: str) -> str:
    """A path inside an uploaded folder (``q.site.upload_dir`` sends ``editor/main.js``): plain segments, each a safe
    name, never absolute and never out of the folder."""
    parts = filename.replace('\\', '/').split('/')
    if len(parts) > MAX_DEPTH or parts[0] == '' or any(p in ('', '.', '..') for p in parts):
        raise UploadError(f'bad path in a folder upload {filename[:80]!r}: absolute, empty, a dot segment or too deep')
    return '/'.join(safe_name(p) for p in parts)


class MultipartUpload:
    """One browser upload on its way to disk: ``feed`` each chunk, then ``finish`` (or ``abort`` on any error).

    Only the ``files`` field is kept (the Wave UI's name); other fields are parsed and dropped.
    """

    def __init__(self, store: UploadStore, content_type: str, one_folder: bool) -> None:
        kind, options = parse_options_header(content_type)
        boundary = options.get(b'boundary')
        if kind != b'multipart/form-data' or not boundary:
            raise UploadError('send multipart/form-data (with a boundary) with one "files" part per file')
        self.store = store
        self.one_folder = one_folder
        self.stored: list[str] = []
        self.folders: list[Path] = []
        self.parts = 0
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b''
        self._value = b''
        self._file: IO[bytes] | None = None
        self._error: UploadError | None = None
        self._parser = MultipartParser(boundary, {
            'on_part_begin': self._part_begin, 'on_header_field': self._header_field,
            'on_header_value': self._header_value, 'on_header_end': self._header_end,
            'on_headers_finished': self._headers_finished, 'on_part_data': self._part_data,
            'on_part_end': self._part_end, 'on_end': self._end,
        })

    def feed(self, chunk: bytes) -> None:
        if self._error is not None:
            raise self._error
        try:
            self._parser.write(chunk)
        except MultipartParseError as e:
            self._error = UploadError(f'malformed multipart body: {e}')
        if self._error is not None:
            raise self._error

    def finish(self) -> list[str]:
        """The stored paths (``<uuid>/<name>``, or ``<uuid>`` for a one-folder upload)."""
        if self._error is not None:
            raise self._error
        if not self.ended:
            raise UploadError('truncated multipart body (no closing boundary)')
        if not self.stored:
            raise UploadError('no files: send multipart/form-data with one "files" part per file')
        if self.one_folder:
            return [self.stored[0].split('/', 1)[0]]
        return self.stored

    def abort(self) -> None:
        """Remove whatever this upload wrote."""
        self._close()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.folders.clear()
        self.stored.clear()

    # --- parser callbacks ---------------------------------------------------------------------------------------

    def _part_begin(self) -> None:
        self.parts += 1
        if self.parts > MAX_PARTS:
            self._fail(f'too many parts: the limit is {MAX_PARTS}')
        self._headers = {}

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b''

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b'content-disposition', b''))
        if self._error is not None or options.get(b'name') != b'files' or b'filename' not in options:
            return
        try:
            raw = options[b'filename'].decode('utf-8')
            name = safe_relative(raw) if self.one_folder else safe_name(raw)
        except UnicodeDecodeError:
            self._fail('file name is not UTF-8')
            return
        except UploadError as e:
            self._error = e
            return
        if self.one_folder and self.folders:
            folder = self.folders[0]
            if (folder / name).exists():
                self._fail(f'two files named {name!r} in one folder upload')
                return
        else:
            _, folder = self.store.new_folder()
            self.folders.append(folder)
        try:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(folder / name, 'wb')  # noqa: SIM115 - closed in _part_end / abort
        except OSError as e:  # a file where a folder of the upload goes, or the other way round
            self._fail(f'cannot store {name!r} in the folder upload: {e.strerror}')
            return
        self.stored.append(f'{folder.name}/{name}')

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None:
            self._file.write(data[start:end])

    def _part_end(self) -> None:
        self._close()

    def _end(self) -> None:
        self.ended = True

    def _close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def _fail(self, message: str) -> None:
        if self._error is None:
            self._error = UploadError(message)
