"""Server-side Wave page store: applies ops batches the way `waved` (1.8.x) does.

A page is a set of named cards. A card holds plain attributes (JSON values) and data buffers
(cyclic, fixed, map, list). `PageStore.apply()` applies one `{"d": [...]}` batch to the page at a
path, and `PageStore.dump()` returns the `{"c": ...}` snapshot that waved would send as `{"p": ...}`.
The semantics below follow waved's store (see ``docs/protocol.md``), including its quirks:

* key paths are split on single spaces; the first segment names the card;
* a one-segment path is split on `.` (dotted key) and its last container must be a dict;
* if the first attribute segment is not an attribute of the card, it is looked up among component
  names found in `items` / `secondary_items` / `buttons` / `commands` when the card was loaded
  (the index is not rebuilt when those attributes are replaced later, as in waved);
* setting a one-segment path that holds a buffer calls the buffer's `put` (so `null` there is a no-op);
* buffers nested anywhere except top level and form `items[*].visualization.data` dump as `{}`.

Malformed ops never raise: an op that waved could not decode is ignored on its own (waved would
reject the whole batch). The store is not thread-safe; use it from one event loop.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ['Buffer', 'Card', 'CyclicBuffer', 'FixedBuffer', 'ListBuffer', 'MapBuffer', 'PageStore', 'StoredPage']

_KEY_SEPARATOR = ' '
_BUF_PREFIX = '~'
_NAMED_LISTS = ('items', 'secondary_items', 'buttons', 'commands')  # card attributes indexed by component name
_NESTED_NAMED_LISTS = ('items', 'secondary_items', 'buttons')  # looked into recursively inside components
_DEFAULT_BUF_SIZE = 10  # waved's size for a buffer declared without rows and with n <= 0
MAX_VALUE_DEPTH = 200  # deeper incoming values are rejected, keeping dump/json recursion safe
MAX_BUFFER_SIZE = 1 << 20  # declared buffer sizes above this are rejected instead of exhausting memory

_INT_RE = re.compile(r'[+-]?[0-9]+')


class _Invalid(Exception):
    """Raised internally for an op that waved would not decode; the op is then skipped."""


def _atoi(s: str) -> int | None:
    """Parse an integer the way Go's strconv.Atoi does (ASCII digits, optional sign), else None."""
    return int(s) if _INT_RE.fullmatch(s) else None


def _copy(v: Any, depth: int = 0) -> Any:
    """Deep-copy a JSON-like value so the store never aliases caller data; reject non-JSON values."""
    if depth > MAX_VALUE_DEPTH:
        raise _Invalid('value nested too deeply')
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if not isinstance(k, str):
                raise _Invalid('non-string object key')
            out[k] = _copy(x, depth + 1)
        return out
    if isinstance(v, (list, tuple)):
        return [_copy(x, depth + 1) for x in v]
    raise _Invalid(f'not a JSON value: {type(v).__name__}')


def _clone(v: Any) -> Any:
    """Copy a stored value for output; a buffer nested in plain data dumps as `{}` like in waved."""
    if isinstance(v, dict):
        return {k: _clone(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clone(x) for x in v]
    if isinstance(v, Buffer):
        return {}
    return v


def _plain(v: Any) -> Any:
    """Copy a stored value for `to_dict()`, expanding buffers (also nested ones) into rows."""
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, Buffer):
        return v.to_plain()
    return v


# ----------------------------------------------------------------------------------------------------------------------
# Buffers


class _Cursor:
    """A row of a buffer, addressed by field name or index (waved's `Cur`)."""

    __slots__ = ('buf', 'row')

    def __init__(self, buf: Buffer, row: list | None) -> None:
        self.buf = buf
        self.row = row

    def _pos(self, f: str) -> int | None:
        if self.row is None:
            return None
        i = self.buf.offsets.get(f)
        if i is None:
            i = _atoi(f)
        return i if i is not None and 0 <= i < len(self.row) else None

    def get(self, f: str) -> Any:
        i = self._pos(f)
        return None if i is None else self.row[i]

    def set(self, f: str, v: Any) -> None:
        i = self._pos(f)
        if i is not None:
            self.row[i] = v  # no type check on fields, as in waved


class Buffer:
    """Base of the four buffer kinds: rows are lists with one item per field."""

    kind = ''

    def __init__(self, fields: list[str] | None) -> None:
        self.fields = fields  # None when declared with no fields (waved dumps "f": null then)
        self.offsets = {f: i for i, f in enumerate(fields or ())}

    def match(self, v: Any) -> bool:
        """True if v is a row for this buffer (a list with exactly one item per field)."""
        return isinstance(v, list) and len(v) == len(self.fields or ())

    def row_dict(self, row: Any) -> Any:
        """A row as {field: value}; rows of buffers without fields stay lists."""
        if isinstance(row, list) and self.fields:
            return dict(zip(self.fields, _plain(row), strict=False))
        return _plain(row)

    def get(self, key: str) -> _Cursor | None:
        raise NotImplementedError

    def set(self, key: str, v: Any) -> None:
        raise NotImplementedError

    def put(self, v: Any) -> None:
        raise NotImplementedError

    def dump(self) -> dict:
        raise NotImplementedError

    def to_plain(self) -> list | dict:
        raise NotImplementedError


class FixedBuffer(Buffer):
    """Fixed number of row slots; keys are slot indexes."""

    kind = 'f'

    def __init__(self, fields: list[str] | None, rows: list) -> None:
        super().__init__(fields)
        self.rows = rows

    def set_at(self, i: int, v: Any) -> None:
        if 0 <= i < len(self.rows):
            if v is None:
                self.rows[i] = None
            elif self.match(v):
                self.rows[i] = v

    def get_at(self, i: int) -> _Cursor | None:
        return _Cursor(self, self.rows[i]) if 0 <= i < len(self.rows) else None

    def get(self, key: str) -> _Cursor | None:
        i = _atoi(key)
        return None if i is None else self.get_at(i)

    def set(self, key: str, v: Any) -> None:
        i = _atoi(key)
        if i is not None:
            self.set_at(i, v)

    def put(self, v: Any) -> None:
        """Replace all rows; needs exactly one row per slot."""
        if isinstance(v, list) and len(v) == len(self.rows):
            for i, x in enumerate(v):
                self.set_at(i, x)

    def dump(self) -> dict:
        return {'f': _clone(self.fields), 'd': _clone(self.rows), 'n': len(self.rows)}

    def to_plain(self) -> list:
        return [self.row_dict(r) for r in self.rows if r is not None]


class CyclicBuffer(FixedBuffer):
    """Ring of row slots; every write goes to the cursor, whatever the key."""

    kind = 'c'

    def __init__(self, fields: list[str] | None, rows: list, cursor: int) -> None:
        super().__init__(fields, rows)
        self.cursor = cursor

    def get(self, key: str) -> _Cursor | None:
        return self.get_at(self.cursor)

    def set(self, key: str, v: Any) -> None:
        self.set_at(self.cursor, v)  # a mismatching row is skipped but still advances the cursor
        self.cursor += 1
        if self.cursor >= len(self.rows):
            self.cursor = 0

    def put(self, v: Any) -> None:
        """Append each row at the cursor (it does not clear the ring first)."""
        if isinstance(v, list):
            for x in v:
                self.set('', x)

    def dump(self) -> dict:
        return {'f': _clone(self.fields), 'd': _clone(self.rows), 'n': len(self.rows), 'i': self.cursor}

    def to_plain(self) -> list:
        rows = self.rows
        if 0 <= self.cursor < len(rows):
            rows = rows[self.cursor:] + rows[:self.cursor]  # oldest first
        return [self.row_dict(r) for r in rows if r is not None]


class ListBuffer(FixedBuffer):
    """Growable rows: integer keys overwrite (negative from the end), other keys append."""

    kind = 'l'

    def __init__(self, fields: list[str] | None, rows: list, count: int) -> None:
        super().__init__(fields, rows)
        self.count = count  # next append position

    def get(self, key: str) -> _Cursor | None:
        i = _atoi(key)
        if i is None:
            return self.get_at(self.count)
        return self.get_at(i + len(self.rows) if i < 0 else i)

    def set(self, key: str, v: Any) -> None:
        i = _atoi(key)
        if i is not None:
            if i < 0:
                i += self.count
            if 0 <= i < len(self.rows):
                self.set_at(i, v)
                return
        if self.count >= len(self.rows):  # full: double the capacity, keeping only well-formed rows
            old, self.rows = self.rows, [None] * (len(self.rows) * 2)
            for j, row in enumerate(old):
                self.set_at(j, row)
        self.set_at(self.count, v)  # a mismatching row is skipped but still takes a slot
        self.count += 1

    def put(self, v: Any) -> None:
        """Append each row (waved's list put does not clear existing rows)."""
        if isinstance(v, list):
            for x in v:
                self.set('', x)


class MapBuffer(Buffer):
    """Rows keyed by string."""

    kind = 'm'

    def __init__(self, fields: list[str] | None, rows: dict) -> None:
        super().__init__(fields)
        self.rows = rows

    def get(self, key: str) -> _Cursor | None:
        return _Cursor(self, self.rows[key]) if key in self.rows else None

    def set(self, key: str, v: Any) -> None:
        if v is None:
            self.rows.pop(key, None)
        elif self.match(v):
            self.rows[key] = v

    def put(self, v: Any) -> None:
        """Replace all rows with the well-formed rows of a dict; anything else is ignored."""
        if isinstance(v, dict):
            self.rows = {k: x for k, x in v.items() if self.match(x)}

    def dump(self) -> dict:
        return {'f': _clone(self.fields), 'd': _clone(self.rows)}

    def to_plain(self) -> dict:
        return {k: self.row_dict(r) for k, r in self.rows.items()}


class _BufSpec:
    """A decoded, validated BufD; `build()` makes a fresh buffer each time it is referenced."""

    __slots__ = ('fields', 'i', 'kind', 'n', 'rows')

    def __init__(self, kind: str, raw: Any) -> None:
        raw = _copy(raw)  # normalizes tuples to lists before validating
        if not isinstance(raw, dict):
            raise _Invalid('buffer is not an object')
        self.kind = kind
        fields = raw.get('f')
        if fields is not None:
            if not isinstance(fields, list) or not all(f is None or isinstance(f, str) for f in fields):
                raise _Invalid('buffer fields must be strings')
            fields = [f or '' for f in fields]
        self.fields = fields or None  # waved keeps no field list for an empty one
        rows = raw.get('d')
        if kind == 'm':
            if rows is not None and not isinstance(rows, dict):
                raise _Invalid('map buffer rows must be an object')
            rows = rows or {}
            if not all(r is None or isinstance(r, list) for r in rows.values()):
                raise _Invalid('map buffer rows must be arrays')
        else:
            if rows is not None and not isinstance(rows, list):
                raise _Invalid('buffer rows must be an array')
            rows = rows or []
            if not all(r is None or isinstance(r, list) for r in rows):
                raise _Invalid('buffer rows must be arrays')
        self.rows = rows
        self.n = self._int(raw, 'n')
        self.i = self._int(raw, 'i')
        if self.n > MAX_BUFFER_SIZE:
            raise _Invalid('buffer too large')

    @staticmethod
    def _int(raw: dict, key: str) -> int:
        v = raw.get(key)
        if v is None:
            return 0
        if isinstance(v, bool) or not isinstance(v, int):
            raise _Invalid(f'buffer {key} must be an integer')
        return v

    def build(self) -> Buffer:
        rows = _copy(self.rows)
        size = self.n if self.n > 0 else _DEFAULT_BUF_SIZE
        if self.kind == 'm':
            return MapBuffer(self.fields, rows)
        if self.kind == 'f':
            return FixedBuffer(self.fields, rows or [None] * size)
        if self.kind == 'c':
            # Without rows the cursor starts at 0; with rows waved keeps the given i (default 0), even out of range.
            return CyclicBuffer(self.fields, rows, self.i) if rows else CyclicBuffer(self.fields, [None] * size, 0)
        # An empty list buffer starts appending at its last slot (waved quirk).
        return ListBuffer(self.fields, rows, len(rows)) if rows else ListBuffer(self.fields, [None] * size, size - 1)


_BUF_KINDS = ('c', 'f', 'm', 'l')  # the order in which waved checks an op's / BufD's buffer keys


def _parse_bufd(raw: Any) -> _BufSpec | None:
    """Decode one entry of a card's `b` list; None if it names no buffer kind."""
    if not isinstance(raw, dict):
        raise _Invalid('buffer entry is not an object')
    for kind in _BUF_KINDS:
        if raw.get(kind) is not None:
            return _BufSpec(kind, raw[kind])
    return None


# ----------------------------------------------------------------------------------------------------------------------
# Generic navigation over attributes, lists, buffers and rows


def _get(x: Any, k: str) -> Any:
    if isinstance(x, (Buffer, _Cursor)):
        return x.get(k)
    if isinstance(x, dict):
        return x.get(k)
    if isinstance(x, list):
        i = _atoi(k)
        if i is not None and 0 <= i < len(x):
            return x[i]
    return None


def _set(x: Any, k: str, v: Any) -> None:
    if isinstance(x, (Buffer, _Cursor)):
        x.set(k, v)
    elif isinstance(x, dict):
        if v is None:
            x.pop(k, None)
        else:
            x[k] = v
    elif isinstance(x, list):
        i = _atoi(k)
        if i is not None and 0 <= i < len(x):
            x[i] = v  # null stays as an item: lists are never shortened


def _fill_names(names: dict[str, dict], wrapped_items: Any) -> None:
    """Index components by name; waved's version panics on malformed items, this one skips them."""
    if not isinstance(wrapped_items, list):
        return
    for wrapped in wrapped_items:
        if not isinstance(wrapped, dict):
            continue
        for item in list(wrapped.values()):
            # Form components are wrapped ({"textbox": {...}}); others (e.g. tabs) are the dict itself.
            component = item if isinstance(item, dict) else wrapped
            name = component.get('name')
            if isinstance(name, str):
                names[name] = component
            for key in _NESTED_NAMED_LISTS:
                if key in component:
                    _fill_names(names, component[key])


def _dump_form_bufs(data: dict, out: dict, bufs: list, keys: list[str]) -> None:
    """Emit `~items.<i>.visualization.data` entries for buffers nested in form items (and inline groups)."""
    items = data.get('items')
    if not isinstance(items, list):
        return
    keys = [*keys, 'items']
    for idx, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        inline = item.get('inline')
        if isinstance(inline, dict):
            _dump_form_bufs(inline, out, bufs, [*keys, str(idx), 'inline'])
        viz = item.get('visualization')
        if isinstance(viz, dict) and isinstance(viz.get('data'), Buffer):
            out[f'{_BUF_PREFIX}{".".join(keys)}.{idx}.visualization.data'] = len(bufs)
            bufs.append({viz['data'].kind: viz['data'].dump()})


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


# ----------------------------------------------------------------------------------------------------------------------
# Cards and pages


class Card:
    """One card: `data` maps attribute names to JSON values or buffers; `names` indexes components by name."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.names: dict[str, dict] = {}

    @classmethod
    def load(cls, d: Any, b: Any = None) -> Card:
        """Build a card from a CardD (`d` attributes, `b` buffers); raises _Invalid if malformed."""
        d, b = _copy(d), _copy(b)
        if not isinstance(d, dict):
            raise _Invalid('card data is not an object')
        if b is not None and not isinstance(b, list):
            raise _Invalid('card buffers are not an array')
        specs = [_parse_bufd(x) for x in b or ()]
        card = cls()
        pending: list[tuple[str, _BufSpec | None]] = []
        for k, v in d.items():
            if k.startswith(_BUF_PREFIX) and _is_number(v):
                i = int(v)  # truncates toward zero, like Go's int(float64)
                if 0 <= i < len(specs):
                    pending.append((k[len(_BUF_PREFIX):], specs[i]))
                    continue
            if k in _NAMED_LISTS:
                _fill_names(card.names, v)
            card.set([k], v)
        for k, spec in pending:  # buffers go in after all plain attributes (they may sit inside them)
            card.set([k], spec.build() if spec else None)
        return card

    def set(self, keys: list[str], v: Any) -> None:
        """Set (or delete, if v is None) the value at an attribute path."""
        if not keys:
            return
        if len(keys) == 1:
            p = keys[0]
            current = self.data.get(p)
            if isinstance(current, Buffer):
                current.put(v)  # never clobber a buffer: replace its rows instead
                return
            parts = p.split('.')
            x: Any = self.data
            for part in parts[:-1]:
                x = _get(x, part)
            if isinstance(x, dict):
                if v is None:
                    x.pop(parts[-1], None)
                else:
                    x[parts[-1]] = v
            return
        x = self.data
        start = 0
        if keys[0] not in self.data and keys[0] in self.names:  # by-name access to a component
            x = self.names[keys[0]]
            start = 1
        for k in keys[start:-1]:
            x = _get(x, k)
        _set(x, keys[-1], v)

    def dump(self) -> dict:
        """The CardD wire form: buffers become `"~attr": index` plus an entry of `b`."""
        out: dict[str, Any] = {}
        bufs: list[dict] = []
        if self.data.get('view') == 'form':
            _dump_form_bufs(self.data, out, bufs, [])
        for k, v in self.data.items():
            if isinstance(v, Buffer):
                out[_BUF_PREFIX + k] = len(bufs)
                bufs.append({v.kind: v.dump()})
            else:
                out[k] = _clone(v)
        return {'d': out, 'b': bufs} if bufs else {'d': out}

    def to_dict(self) -> dict:
        """Attributes as plain Python values, buffers expanded (see `StoredPage.to_dict`)."""
        return {k: _plain(v) for k, v in self.data.items()}


_DROPPED = object()


class StoredPage:
    """One Wave page: cards with attributes and data buffers."""

    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}

    @classmethod
    def from_dump(cls, dump: Any) -> StoredPage:
        """Rebuild a page from a `{"c": {...}}` dump (e.g. a stored snapshot); malformed cards are skipped."""
        page = cls()
        cards = dump.get('c') if isinstance(dump, dict) else None
        if isinstance(cards, dict):
            for name, card in cards.items():
                if not isinstance(card, dict):
                    continue
                try:
                    page.cards[name] = Card.load(card.get('d') or {}, card.get('b'))
                except (_Invalid, RecursionError):
                    continue
        return page

    def apply(self, ops: list[dict]) -> bool:
        """Apply one ops batch in order. Returns False if the batch dropped the page (an op `{}`), else True.

        A drop empties this page in place; the ops after it build the new content.
        """
        kept = True
        if not isinstance(ops, list):
            return kept
        for op in ops:
            try:
                if self._apply_op(op) is _DROPPED:
                    self.cards.clear()
                    kept = False
            except (_Invalid, RecursionError):
                continue
        return kept

    def _apply_op(self, op: Any) -> object | None:
        if not isinstance(op, dict):
            return None
        k = op.get('k')
        if k is None or k == '':  # waved decodes a missing or null k as "" = drop page
            return _DROPPED
        if not isinstance(k, str):
            return None
        for kind in _BUF_KINDS:
            if op.get(kind) is not None:
                self._set(k, _BufSpec(kind, op[kind]).build())
                return None
        if op.get('d') is not None:
            self.cards[k] = Card.load(op['d'], op.get('b'))  # the whole k names the card, spaces included
            return None
        self._set(k, _copy(op.get('v')))
        return None

    def _set(self, k: str, v: Any) -> None:
        keys = k.split(_KEY_SEPARATOR)
        if len(keys) == 1:  # a bare card name deletes the card, whatever the value
            self.cards.pop(k, None)
            return
        card = self.cards.get(keys[0])
        if card is not None:
            card.set(keys[1:], v)

    def dump(self) -> dict:
        """The PageD wire form `{"c": {name: CardD}}`, as waved sends it inside `{"p": ...}`."""
        return {'c': {name: card.dump() for name, card in self.cards.items()}}

    def to_dict(self) -> dict:
        """A plain view `{card: {attr: value}}` for inspection from Python.

        Buffers are expanded wherever they sit: fixed, cyclic and list buffers become a list of rows
        (empty slots left out; cyclic rows oldest first), map buffers a dict `{key: row}`. A row is a
        dict `{field: value}`, or the raw list when the buffer has no fields.
        """
        return {name: card.to_dict() for name, card in self.cards.items()}


class PageStore:
    """All pages of one server, keyed by path ('/demo', '/<client_id>', ...)."""

    def __init__(self) -> None:
        self._pages: dict[str, StoredPage] = {}

    def apply(self, path: str, ops: list[dict]) -> None:
        """Apply an ops batch to the page at path, creating the page on demand (even for an empty batch)."""
        if not isinstance(ops, list):
            return
        page = self._pages.get(path)
        if page is None:
            page = self._pages[path] = StoredPage()
        page.apply(ops)

    def load(self, path: str, dump: dict) -> StoredPage:
        """Replace the page at path with one rebuilt from a `{"c": ...}` dump."""
        page = self._pages[path] = StoredPage.from_dump(dump)
        return page

    def get(self, path: str) -> StoredPage | None:
        return self._pages.get(path)

    def dump(self, path: str) -> dict | None:
        """The page's `{"c": ...}` snapshot, or None if there is no page at path."""
        page = self._pages.get(path)
        return None if page is None else page.dump()

    def delete(self, path: str) -> None:
        self._pages.pop(path, None)

    def paths(self) -> list[str]:
        return sorted(self._pages)

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and path in self._pages

    def __len__(self) -> int:
        return len(self._pages)


def strings(value: Any) -> list[str]:
    """Every string in a page's data (``StoredPage.to_dict()``), in order: what a quick text check looks at."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []
