"""The unchanged Wave UI for a static site: taken at build time from the installed ``h2o-wave`` (its platform wheel
holds ``www/``; nothing of it is committed here), written as ``ui.json`` and one file holding every file of
``wave-static/`` (one request instead of ~400; the browser keeps them in IndexedDB by h2o-wave version)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..assets import www_dir
from ..commlink import ui_version


def write(folder: Path) -> str:
    """Write ``ui.json`` and the bundle into ``folder``; returns the bundle's content hash."""
    static = www_dir() / 'wave-static'
    files: dict[str, list[int]] = {}
    chunks = []
    offset = 0
    for path in sorted(p for p in static.iterdir() if p.is_file()):
        data = path.read_bytes()
        files[path.name] = [offset, offset + len(data)]
        chunks.append(data)
        offset += len(data)
    bundle = b''.join(chunks)
    digest = hashlib.sha256(bundle).hexdigest()[:16]
    folder.mkdir(parents=True, exist_ok=True)
    name = f'wave-ui-{digest}.bin'
    (folder / name).write_bytes(bundle)
    index = (www_dir() / 'index.html').read_text(encoding='utf-8')
    manifest = {'version': f'{ui_version()}-{digest}', 'index': index, 'bin': name, 'files': files}
    (folder / 'ui.json').write_text(json.dumps(manifest), encoding='utf-8')
    return digest
