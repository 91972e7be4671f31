"""Files uploaded by browsers (``POST _f/``) or by the app (``q.site.upload``), kept as ``<root>/<uuid>/<name>``.

Every path that comes from outside is checked to stay inside ``root``: names are reduced to their last component and
anything that still resolves elsewhere is refused.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path


class UploadError(ValueError):
    """A bad upload: the sender gets this message with a 4xx status."""


def safe_name(filename: str) -> str:
    """The file's own name, never a path: browsers may send ``C:\\fakepath\\x`` or ``../../etc/passwd``."""
    name = filename.replace('\\', '/').rsplit('/', 1)[-1].strip()
    if name in ('', '.', '..') or '\x00' in name:
        raise UploadError(f'bad file name {filename!r}')
    return name


class UploadStore:
    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def new_folder(self) -> tuple[str, Path]:
        key = str(uuid.uuid4())
        folder = self.root / key
        folder.mkdir()
        return key, folder

    def save(self, files: list[tuple[str, bytes]], one_folder: bool = False) -> list[str]:
        """Store ``(filename, body)`` pairs, each in a folder of its own (``<uuid>/<name>``) or all in one."""
        named = [(safe_name(f), body) for f, body in files]
        if one_folder:
            key, folder = self.new_folder()
            for name, body in named:
                (folder / name).write_bytes(body)
            return [key]
        out = []
        for name, body in named:
            key, folder = self.new_folder()
            (folder / name).write_bytes(body)
            out.append(f'{key}/{name}')
        return out

    def copy_in(self, paths: list[str]) -> list[str]:
        """``q.site.upload``: copy local files in, one folder each."""
        out = []
        for p in paths:
            key, folder = self.new_folder()
            shutil.copyfile(p, folder / os.path.basename(p))
            out.append(f'{key}/{os.path.basename(p)}')
        return out

    def copy_dir_in(self, directory: str) -> str:
        """``q.site.upload_dir``: the whole tree under one key."""
        key = str(uuid.uuid4())
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
