"""From a notebook to a plain h2o_wave app file: the handler and what it needs, nothing that only drives the notebook.

The notebook's code cells are read as one module, in order (a later definition wins, as in the kernel). The app is
found where the notebook starts it (``listen('/demo', serve, mode=...)``, ``%wave listen /demo serve``, a
``%%wave /demo`` cell, or an ``@app`` function). From its handler, ``on_startup``/``on_shutdown`` and every ``@on``
function, the top-level statements they need are collected, transitively: imports, helpers, classes, constants.
Everything else (cells that inspect or drive the app: ``apps[...]``, ``VirtualTab``, ``%wave``, prints) stays out.
What cannot work outside the notebook (a name bound to a live object of the kernel, a name no cell defines,
something only wave_jupyter has) is an :class:`ExportError` naming the cell.
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shlex
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

#: Names of wave_jupyter that h2o_wave has too (the SDK's names): an import of them becomes one from h2o_wave.
SDK_NAMES = {'Q', 'Query', 'Expando', 'Auth', 'AsyncSite', 'on', 'handle_on', 'run_on', 'data', 'pack', 'ui',
             'app', 'main', 'copy_expando', 'clone_expando', 'expando_to_dict', 'marshal', 'unmarshal'}
#: Calls whose result lives only in the kernel: a name bound to one cannot go to a file.
LIVE_CALLS = {'listen', 'VirtualTab', 'server_of', 'view', 'show', 'current_server', 'default_server'}
#: Names that mean a notebook-only object wherever they appear.
LIVE_NAMES = {'apps', 'get_ipython'}
HEADER_NAMES = ('Q', 'app', 'main', 'ui')


class ExportError(ValueError):
    """The notebook's app cannot be written as a file; the message names the cell."""


@dataclass
class Cell:
    label: str  # 'cell 3' in a notebook, 'In [7]' in a kernel's history
    source: str


@dataclass
class AppSpec:
    route: str
    handler: str
    mode: str | None = None
    on_startup: str | None = None
    on_shutdown: str | None = None
    label: str = ''


@dataclass
class _Stmt:
    cell: Cell
    node: ast.stmt
    text: str
    defines: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)


# --- reading cells ---------------------------------------------------------------------------------------------------

def notebook_cells(path: str | Path) -> list[Cell]:
    """The code cells of an ``.ipynb`` file, labelled by their position in the notebook."""
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
    cells = []
    for i, c in enumerate(nb.get('cells', []), 1):
        if c.get('cell_type') == 'code':
            src = c.get('source', '')
            cells.append(Cell(f'cell {i}', ''.join(src) if isinstance(src, list) else src))
    return cells


def _magic_args(line: str, label: str) -> tuple[list[str], dict[str, str]]:
    try:
        words = shlex.split(line)
    except ValueError as e:  # an unbalanced quote
        raise ExportError(f'{label}: cannot read the %wave line ({e}): {line.strip()[:80]}') from None
    positional, options = [], {}
    i = 0
    while i < len(words):
        if words[i].startswith('--'):
            key = words[i][2:]
            if i + 1 < len(words) and not words[i + 1].startswith('--'):
                options[key] = words[i + 1]
                i += 1
            else:
                options[key] = ''
        else:
            positional.append(words[i])
        i += 1
    return positional, options


def _python_of(cell: Cell, apps: list[AppSpec]) -> str | None:
    """The cell as Python (magic lines blanked, keeping line numbers), noting apps that magics start."""
    lines = cell.source.split('\n')
    first = lines[0].strip() if lines else ''
    if first.startswith('%%wave'):
        args, options = _magic_args(first[len('%%wave'):], cell.label)
        if not args:
            return None
        body = '\n'.join(lines[1:])
        tree = _parse(Cell(cell.label, body))
        defs = [n for n in tree.body if isinstance(n, ast.AsyncFunctionDef)] if tree else []
        if defs:
            apps.append(AppSpec(args[0], defs[-1].name, options.get('mode'), label=cell.label))
            return '\n' + body
        apps.append(AppSpec(args[0], 'serve', options.get('mode'), label=cell.label))
        return '\nasync def serve(q: Q):\n' + textwrap.indent(body if body.strip() else 'pass', '    ')
    if first.startswith('%%'):
        return None  # another cell magic (%%writefile, %%time, ...): not the app's code
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped.startswith(('%', '!')):
            words = stripped.split(None, 2)
            if words[0] == '%wave' and len(words) > 1 and words[1] == 'listen':
                args, options = _magic_args(words[2] if len(words) > 2 else '', cell.label)
                if args:
                    apps.append(AppSpec(args[0], args[1] if len(args) > 1 else 'serve', options.get('mode'),
                                        label=cell.label))
            out.append('')
        else:
            out.append(line)
    return '\n'.join(out)


def _parse(cell: Cell) -> ast.Module | None:
    try:
        return compile(cell.source, cell.label, 'exec', ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                       dont_inherit=True)
    except SyntaxError:
        return None


# --- names ---------------------------------------------------------------------------------------------------------

def _bound_by(node: ast.AST) -> set[str]:
    """Names a top-level statement binds in the module (not inside its functions)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Import):
        return {(a.asname or a.name).split('.')[0] for a in node.names}
    if isinstance(node, ast.ImportFrom):
        return {a.asname or a.name for a in node.names if a.name != '*'}
    found: set[str] = set()
    for child in _walk_module_level(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            found.add(child.id)
    return found


def _walk_module_level(node: ast.AST) -> Iterable[ast.AST]:
    """Like ast.walk, but not into function bodies, classes, lambdas or comprehensions (their own scopes)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        for child in ast.iter_child_nodes(n):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef,
                                      ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
                stack.append(child)


def _free_names(node: ast.AST) -> set[str]:
    """Names a statement reads from the module scope (parameters and locals of its functions excluded)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
        args = node.args
        params = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        params |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
        outside: set[str] = set()
        for part in [*args.defaults, *args.kw_defaults, *getattr(node, 'decorator_list', [])]:
            if part is not None:
                outside |= _free_names(part)
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]:
            if a.annotation is not None:
                outside |= _free_names(a.annotation)
        body = node.body if isinstance(node.body, list) else [node.body]
        local = set(params)
        for stmt in body:
            local |= _bound_by(stmt)
            for n in ast.walk(stmt):
                if isinstance(n, (ast.Global, ast.Nonlocal)):
                    local -= set(n.names)
        inner: set[str] = set()
        for stmt in body:
            inner |= _free_names(stmt)
        return outside | (inner - local)
    if isinstance(node, ast.ClassDef):
        names: set[str] = set()
        for part in [*node.bases, *node.decorator_list, *(k.value for k in node.keywords), *node.body]:
            names |= _free_names(part)
        return names
    if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
        targets = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        names = set()
        for child in ast.iter_child_nodes(node):
            names |= _free_names(child)
        return names - targets
    if isinstance(node, ast.Name):
        return {node.id} if isinstance(node.ctx, ast.Load) else set()
    names = set()
    for child in ast.iter_child_nodes(node):
        names |= _free_names(child)
    return names


def _calls(node: ast.AST) -> set[str]:
    out = set()
    for n in ast.walk(node):
        if isinstance(n, ast.Call):
            f = n.func
            out.add(f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else '')
    return out


def _const(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(node: ast.AST | None) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


#: Apps started in a way no file can repeat (a handler made by a call, a computed route), by cell, for the error.
_Unexportable = list[str]


def _listen_calls(node: ast.AST, cell: Cell, unexportable: _Unexportable) -> list[AppSpec]:
    found = []
    for n in ast.walk(node):
        if isinstance(n, ast.Call) and (_name(n.func) == 'listen' or
                                        (isinstance(n.func, ast.Attribute) and n.func.attr == 'listen')):
            kw = {k.arg: k.value for k in n.keywords if k.arg}
            route = _const(n.args[0]) if n.args else _const(kw.get('route'))
            handler = _name(n.args[1]) if len(n.args) > 1 else _name(kw.get('handler'))
            if route and handler:
                found.append(AppSpec(route, handler, _const(kw.get('mode')), _name(kw.get('on_startup')),
                                     _name(kw.get('on_shutdown')), cell.label))
            else:
                unexportable.append(f'{cell.label} starts an app with {ast.unparse(n)[:70]}: export needs a '
                                    "literal route and a handler defined at the top level of a cell (`async def "
                                    "serve(q)`), not one made by a call (a closure over the notebook's values)")
    return found


def _app_decorator(node: ast.stmt) -> ast.Call | None:
    if isinstance(node, ast.AsyncFunctionDef):
        for d in node.decorator_list:
            if isinstance(d, ast.Call) and _name(d.func) == 'app':
                return d
    return None


def _is_on_handler(node: ast.stmt) -> bool:
    return isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and any(
        _name(d) == 'on' or (isinstance(d, ast.Call) and _name(d.func) == 'on') for d in node.decorator_list)


# --- export ----------------------------------------------------------------------------------------------------------

def statements(cells: list[Cell], unexportable: _Unexportable | None = None) -> tuple[list[_Stmt], list[AppSpec]]:
    """Every top-level statement of the cells (in order) and the apps they start."""
    stmts: list[_Stmt] = []
    apps: list[AppSpec] = []
    unexportable = [] if unexportable is None else unexportable
    for cell in cells:
        python = _python_of(cell, apps)
        if python is None:
            continue
        code = Cell(cell.label, python)
        tree = _parse(code)
        if tree is None:
            continue  # not Python (another language's cell): nothing the app can need
        lines = python.split('\n')
        for node in tree.body:
            start = min([node.lineno, *(d.lineno for d in getattr(node, 'decorator_list', []))])
            text = '\n'.join(lines[start - 1:node.end_lineno])
            stmts.append(_Stmt(cell, node, text, _bound_by(node), _free_names(node)))
            apps.extend(_listen_calls(node, cell, unexportable))
            deco = _app_decorator(node)
            if deco is not None and deco.args and _const(deco.args[0]):
                kw = {k.arg: k.value for k in deco.keywords if k.arg}
                apps.append(AppSpec(_const(deco.args[0]), node.name, _const(kw.get('mode')),
                                    _name(kw.get('on_startup')), _name(kw.get('on_shutdown')), cell.label))
    return stmts, apps


def pick(apps: list[AppSpec], route: str | None, unexportable: _Unexportable = ()) -> AppSpec:
    if not apps and unexportable:
        raise ExportError('; '.join(unexportable))
    if route is not None:
        chosen = [a for a in apps if a.route == route]
        if not chosen:
            raise ExportError(f'no cell starts an app at {route}' +
                              (f' (the notebook starts {", ".join(sorted({a.route for a in apps}))})' if apps else ''))
        return chosen[-1]
    routes = sorted({a.route for a in apps})
    if not routes:
        raise ExportError("no cell starts a Wave app (listen('/route', handler), %wave listen, %%wave or @app)")
    if len(routes) > 1:
        raise ExportError(f'the notebook starts several apps ({", ".join(routes)}): name one with --route')
    return [a for a in apps if a.route == routes[0]][-1]


def export(cells: list[Cell], route: str | None = None, source: str = 'a notebook',
           spec: AppSpec | None = None, file: str = 'app.py') -> str:
    """The text of a Wave app file (to be saved as ``file``) serving the app at ``route`` of ``cells``."""
    unexportable: _Unexportable = []
    stmts, apps = statements(cells, unexportable)
    spec = spec or pick(apps, route, unexportable)
    last: dict[str, _Stmt] = {}
    for s in stmts:
        for name in s.defines:
            last[name] = s
    if spec.handler not in last:
        raise ExportError(f'{spec.label or "the notebook"}: the handler {spec.handler} of {spec.route} is not '
                          'defined at the top level of any cell')
    roots = [last[spec.handler], *(last[n] for n in (spec.on_startup, spec.on_shutdown) if n and n in last)]
    roots += [s for s in stmts if _is_on_handler(s.node) and last.get(s.node.name) is s]
    chosen: list[_Stmt] = []
    needed_from: dict[int, set[str]] = {}  # id(import stmt) -> names it must keep
    todo = list(roots)
    seen: set[int] = set()
    while todo:
        s = todo.pop()
        if id(s) in seen:
            continue
        seen.add(id(s))
        chosen.append(s)
        for name in sorted(s.uses):
            _check_name(name, s, spec, last)
            if name in last and name not in HEADER_NAMES:
                dep = last[name]
                if isinstance(dep.node, (ast.Import, ast.ImportFrom)):
                    needed_from.setdefault(id(dep), set()).add(name)
                todo.append(dep)
    order = {id(s): i for i, s in enumerate(stmts)}
    body = []
    for s in sorted(chosen, key=lambda s: order[id(s)]):
        text = _import_text(s, needed_from.get(id(s), set())) if isinstance(s.node, (ast.Import, ast.ImportFrom)) \
            else s.text
        if s is last[spec.handler] and _app_decorator(s.node) is None:
            text = _decorator(spec) + '\n' + text
        if text:
            body.append(text)
    doc = (f'{spec.route}: exported from {source} by wave_jupyter.\n\n'
           f'Run it on the Wave server with ``wave run {Path(file).stem}``, or with '
           f'``python -m wave_jupyter run {Path(file).name}``.\n')
    header = (_docstring(doc) + '\n\n'
              'from h2o_wave import Q, app, main, ui  # noqa: F401  (main: what `wave run` and uvicorn serve)\n')
    return header + '\n' + '\n\n'.join(_spaced(body)) + '\n'


def _docstring(text: str) -> str:
    """``text`` as a module docstring that nothing in it can close (a route or a notebook's name may hold ``\"\"\"``,
    backslashes or control characters): checked by parsing it back."""
    escaped = ''.join(c if c == '\n' or (c.isprintable() and c not in '\\"') else
                      ('\\' + c if c in '\\"' else f'\\x{ord(c):02x}' if ord(c) < 256 else f'\\u{ord(c):04x}')
                      for c in text)
    literal = f'"""{escaped}"""'
    tree = ast.parse(literal)
    assert len(tree.body) == 1 and ast.get_docstring(tree, clean=False) == text, 'a docstring that is not one'
    return literal


def _spaced(parts: list[str]) -> list[str]:
    """Two blank lines around definitions, as in a hand-written module."""
    out = []
    for p in parts:
        out.append(p if not re.match(r'(@|async def |def |class )', p) else '\n' + p)
    return out


def _decorator(spec: AppSpec) -> str:
    args = [repr(spec.route)]
    if spec.mode and spec.mode != 'unicast':
        args.append(f'mode={spec.mode!r}')
    if spec.on_startup:
        args.append(f'on_startup={spec.on_startup}')
    if spec.on_shutdown:
        args.append(f'on_shutdown={spec.on_shutdown}')
    return f'@app({", ".join(args)})'


def _import_text(s: _Stmt, keep: set[str]) -> str:
    node = s.node
    if isinstance(node, ast.Import):
        return s.text
    module = node.module or ''
    aliases = [a for a in node.names if (a.asname or a.name) in keep]
    if module.split('.')[0] in ('wave_jupyter', 'h2o_wave'):
        module = 'h2o_wave'
        aliases = [a for a in aliases if (a.asname or a.name) not in HEADER_NAMES]
    if not aliases:
        return ''
    names = ', '.join(a.name if not a.asname else f'{a.name} as {a.asname}' for a in aliases)
    return f'from {"." * node.level}{module} import {names}'


def _check_name(name: str, user: _Stmt, spec: AppSpec, last: dict[str, _Stmt]) -> None:
    where = f'{user.cell.label}: {_what(user)}'
    if name in LIVE_NAMES:
        raise ExportError(f'{where} uses `{name}`, which exists only in the notebook\'s kernel')
    if name in last:
        dep = last[name]
        node = dep.node
        if isinstance(node, ast.ImportFrom) and (node.module or '').split('.')[0] == 'wave_jupyter' \
                and name not in SDK_NAMES:
            raise ExportError(f'{where} uses `{name}` from wave_jupyter, which h2o_wave has not: '
                              'a production app cannot use it')
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and _calls(node) & LIVE_CALLS:
            raise ExportError(f'{where} uses `{name}`, bound in {dep.cell.label} to a live object of the '
                              f'notebook ({dep.text.strip().splitlines()[0][:60]}): it does not exist in a file')
        return
    if name in HEADER_NAMES or hasattr(builtins, name) or name in ('__name__', '__file__'):
        return
    raise ExportError(f'{where} uses `{name}`, which no cell defines')


def _what(s: _Stmt) -> str:
    node = s.node
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return node.name
    return 'a statement the app needs'


def export_notebook(path: str | Path, route: str | None = None, file: str = 'app.py') -> str:
    """The app file's text for the app at ``route`` (or the only app) of the notebook at ``path``."""
    return export(notebook_cells(path), route, source=Path(path).name, file=file)


__all__ = ['AppSpec', 'Cell', 'ExportError', 'export', 'export_notebook', 'notebook_cells']
