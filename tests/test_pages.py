"""Tests for wave_jupyter.pages: replay of real waved traces plus focused semantics checks."""

from __future__ import annotations

import copy
import json
import random

import pytest
from conftest import trace, trace_rows

from wave_jupyter.pages import PageStore, StoredPage

TRACE_PATH = '/ops-test'  # every step of ops_examples was PATCHed to this one page
STEPS = trace_rows('ops_examples.jsonl')


def _wire(x: object) -> object:
    """What goes over the wire: a JSON round trip."""
    return json.loads(json.dumps(x))


def _page(*ops: dict) -> StoredPage:
    page = StoredPage()
    page.apply(list(ops))
    return page


def _buf(page: StoredPage, card: str, index: int = 0) -> dict:
    """The body of buffer `index` of a card's dump, e.g. {"f": [...], "d": [...], "n": 3}."""
    (body,) = page.dump()['c'][card]['b'][index].values()
    return body


# ----------------------------------------------------------------------------------------------------------------------
# Trace replay


@pytest.mark.parametrize('step', range(len(STEPS)), ids=[s['step'] for s in STEPS])
def test_trace_step_matches_waved(step: int) -> None:
    store = PageStore()
    for s in STEPS[: step + 1]:
        store.apply(TRACE_PATH, s['patch_body']['d'])
    assert _wire(store.dump(TRACE_PATH)) == STEPS[step]['stored']['p']


def test_trace_replay_in_one_store() -> None:
    assert len(STEPS) > 10
    store = PageStore()
    for s in STEPS:
        store.apply(TRACE_PATH, copy.deepcopy(s['patch_body']['d']))
        assert _wire(store.dump(TRACE_PATH)) == s['stored']['p'], s['step']
    assert store.paths() == [TRACE_PATH]


def test_stored_static_page_round_trip() -> None:
    stored = json.loads(trace('stored_static_page.json').read_text())['p']
    store = PageStore()
    store.load('/static', stored)
    assert _wire(store.dump('/static')) == stored
    assert store.get('/static').to_dict()['p1']['data'] == {
        'k1': {'a': 'x', 'b': 1}, 'k2': {'a': 'y', 'b': 2}, 'k3': {'a': 'z', 'b': 3},
    }


# ----------------------------------------------------------------------------------------------------------------------
# Attributes, key paths, by-name and dotted keys

FORM = {
    'k': 'f',
    'd': {
        'view': 'form',
        'box': '1 1 2 2',
        'items': [
            {'textbox': {'name': 'txt', 'label': 'Text', 'value': 'a'}},
            {'buttons': {'items': [{'button': {'name': 'b1', 'label': 'One'}}]}},
            {'tabs': {'name': 'tabs', 'items': [{'tab': {'name': 't1', 'label': 'T1'}}]}},
        ],
    },
}


def test_set_and_delete_attribute() -> None:
    page = _page({'k': 'm', 'd': {'view': 'markdown', 'title': 'T', 'content': 'x', 'gone': None}})
    assert page.apply([{'k': 'm content', 'v': 'y'}, {'k': 'm title', 'v': None}, {'k': 'm box'}]) is True
    assert page.dump() == {'c': {'m': {'d': {'view': 'markdown', 'content': 'y'}}}}


def test_index_path_and_out_of_range() -> None:
    page = _page(FORM)
    page.apply([{'k': 'f items 0 textbox value', 'v': 'b'}, {'k': 'f items 9 textbox value', 'v': 'c'}])
    page.apply([{'k': 'f items -1 textbox value', 'v': 'c'}, {'k': 'nope title', 'v': 'x'}])
    assert page.cards['f'].data['items'][0]['textbox']['value'] == 'b'
    assert list(page.cards) == ['f']


def test_list_item_set_to_null_keeps_the_slot() -> None:
    page = _page(FORM)
    page.apply([{'k': 'f items 2', 'v': None}])
    assert page.dump()['c']['f']['d']['items'][2] is None


def test_by_name_set_including_nested_components() -> None:
    page = _page(FORM)
    page.apply([
        {'k': 'f txt label', 'v': 'Renamed'},
        {'k': 'f b1 label', 'v': 'Uno'},  # inside buttons.items
        {'k': 'f t1 label', 'v': 'Tab 1'},  # inside tabs.items
        {'k': 'f tabs value', 'v': 't1'},
        {'k': 'f txt placeholder'},  # delete an absent key: no-op
        {'k': 'f ghost label', 'v': 'x'},  # unknown name: ignored
    ])
    items = page.dump()['c']['f']['d']['items']
    assert items[0]['textbox']['label'] == 'Renamed'
    assert items[1]['buttons']['items'][0]['button']['label'] == 'Uno'
    assert items[2]['tabs']['items'][0]['tab']['label'] == 'Tab 1'
    assert items[2]['tabs']['value'] == 't1'
    assert 'ghost' not in json.dumps(items)


def test_by_name_prefers_real_attributes() -> None:
    page = _page({'k': 'f', 'd': {'view': 'form', 'box': {'a': 1}, 'items': [{'textbox': {'name': 'box'}}]}})
    page.apply([{'k': 'f box a', 'v': 2}])
    assert page.cards['f'].data['box'] == {'a': 2}
    assert page.cards['f'].data['items'][0]['textbox'] == {'name': 'box'}


def test_by_name_index_is_built_at_load_only() -> None:
    """waved's quirk: replacing `items` keeps the old name index, so by-name writes no longer show."""
    page = _page(FORM)
    page.apply([{'k': 'f items', 'v': [{'textbox': {'name': 'txt', 'label': 'New'}}]}, {'k': 'f txt label', 'v': 'X'}])
    assert page.dump()['c']['f']['d']['items'] == [{'textbox': {'name': 'txt', 'label': 'New'}}]
    page.apply([FORM, {'k': 'f txt label', 'v': 'X'}])  # re-adding the card rebuilds the index
    assert page.dump()['c']['f']['d']['items'][0]['textbox']['label'] == 'X'


def test_dotted_single_key() -> None:
    page = _page(FORM, {'k': 'm', 'd': {'view': 'markdown', 'meta': {'a': {'b': 1}}}})
    page.apply([
        {'k': 'f items.0.textbox.label', 'v': 'Dotted'},
        {'k': 'm meta.a.c', 'v': 2},
        {'k': 'm meta.a.b', 'v': None},
        {'k': 'm meta.x.y', 'v': 3},  # missing container: ignored
        {'k': 'f items.0', 'v': 'x'},  # last container is a list, not a dict: ignored (as in waved)
    ])
    assert page.cards['f'].data['items'][0]['textbox']['label'] == 'Dotted'
    assert page.cards['m'].data['meta'] == {'a': {'c': 2}}
    assert page.cards['f'].data['items'][0] == {'textbox': {'name': 'txt', 'label': 'Dotted', 'value': 'a'}}


def test_card_delete_and_replace() -> None:
    page = _page({'k': 'a', 'd': {'x': 1}}, {'k': 'b', 'd': {'x': 2}})
    page.apply([{'k': 'a'}, {'k': 'b', 'v': 'anything'}, {'k': 'c', 'd': {}}, {'k': 'c', 'd': {'y': 3}}])
    assert page.dump() == {'c': {'c': {'d': {'y': 3}}}}


def test_card_name_with_space_via_d() -> None:
    page = _page({'k': 'a b', 'd': {'x': 1}})
    assert list(page.cards) == ['a b']


def test_values_are_copied_in_and_out() -> None:
    value = {'nested': [1, 2]}
    page = _page({'k': 'm', 'd': {'meta': value}})
    value['nested'].append(3)
    out = page.dump()
    out['c']['m']['d']['meta']['nested'].append(4)
    page.to_dict()['m']['meta']['nested'].append(5)
    assert page.cards['m'].data['meta'] == {'nested': [1, 2]}


# ----------------------------------------------------------------------------------------------------------------------
# Buffers


def _plot(kind: str, body: dict, name: str = 'p') -> dict:
    return {'k': name, 'd': {'view': 'plot', '~data': 0}, 'b': [{kind: body}]}


def test_fixed_buffer() -> None:
    page = _page(_plot('f', {'f': ['x', 'y'], 'n': 3}))
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [None, None, None], 'n': 3}
    page.apply([
        {'k': 'p data 1', 'v': [10, 11]},
        {'k': 'p data 1 y', 'v': 99},
        {'k': 'p data 1 0', 'v': 7},  # field by index
        {'k': 'p data 0', 'v': [1]},  # wrong arity: ignored
        {'k': 'p data 3', 'v': [1, 1]},  # out of range: ignored
        {'k': 'p data 0 x', 'v': 1},  # empty row: ignored
        {'k': 'p data x', 'v': [1, 1]},  # non-integer key: ignored
    ])
    assert _buf(page, 'p')['d'] == [None, [7, 99], None]
    page.apply([{'k': 'p data', 'v': [[1, 1], [2, 2]]}])  # put needs exactly n rows
    assert _buf(page, 'p')['d'] == [None, [7, 99], None]
    page.apply([{'k': 'p data', 'v': [[1, 1], None, [3]]}])  # None clears, bad rows keep the old value
    assert _buf(page, 'p')['d'] == [[1, 1], None, None]
    page.apply([{'k': 'p data 0', 'v': None}, {'k': 'p data', 'v': None}])  # null put on a buffer is a no-op
    assert _buf(page, 'p')['d'] == [None, None, None]
    assert page.dump()['c']['p']['d'] == {'view': 'plot', '~data': 0}


def test_buffer_default_size_and_empty_fields() -> None:
    page = _page(_plot('f', {'f': []}))
    assert _buf(page, 'p') == {'f': None, 'd': [None] * 10, 'n': 10}


def test_cyclic_buffer_cursor_and_wrap() -> None:
    page = _page(_plot('c', {'f': ['x', 'y'], 'd': [[1, 1], [2, 2]]}))
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [[1, 1], [2, 2]], 'n': 2, 'i': 0}
    page.apply([{'k': 'p data -1', 'v': [3, 3]}, {'k': 'p data anything', 'v': [4, 4]}, {'k': 'p data 0', 'v': [5, 5]}])
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [[5, 5], [4, 4]], 'n': 2, 'i': 1}
    page.apply([{'k': 'p data 0 y', 'v': 40}])  # field write goes to the row at the cursor
    assert _buf(page, 'p')['d'] == [[5, 5], [4, 40]]
    page.apply([{'k': 'p data', 'v': [[7, 7], [8, 8], [9, 9]]}])  # put appends each row
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [[8, 8], [9, 9]], 'n': 2, 'i': 0}
    page.apply([{'k': 'p data 5', 'v': ['bad']}])  # a bad row still advances the cursor
    assert _buf(page, 'p')['i'] == 1
    assert page.to_dict()['p']['data'] == [{'x': 9, 'y': 9}, {'x': 8, 'y': 8}]  # oldest first


def test_cyclic_buffer_declared_size_and_given_cursor() -> None:
    page = _page(_plot('c', {'f': ['a'], 'n': 3}), _plot('c', {'f': ['a'], 'd': [[1], [2], [3]], 'i': 2}, 'q'))
    page.apply([{'k': 'p data -1', 'v': [1]}, {'k': 'q data -1', 'v': [4]}])
    assert _buf(page, 'p') == {'f': ['a'], 'd': [[1], None, None], 'n': 3, 'i': 1}
    assert _buf(page, 'q') == {'f': ['a'], 'd': [[1], [2], [4]], 'n': 3, 'i': 0}


def test_map_buffer() -> None:
    page = _page(_plot('m', {'f': ['k', 'v'], 'd': {'a': ['a', 1]}}))
    page.apply([
        {'k': 'p data b', 'v': ['b', 2]},
        {'k': 'p data a', 'v': None},
        {'k': 'p data c', 'v': ['c']},  # wrong arity: ignored
        {'k': 'p data b v', 'v': 20},
        {'k': 'p data zz v', 'v': 1},  # missing row: ignored
    ])
    assert _buf(page, 'p') == {'f': ['k', 'v'], 'd': {'b': ['b', 20]}}
    page.apply([{'k': 'p data', 'v': [['q', 1]]}])  # put wants a dict
    assert _buf(page, 'p')['d'] == {'b': ['b', 20]}
    page.apply([{'k': 'p data', 'v': {'r': ['r', 5], 's': ['bad']}}])  # replaces all rows, bad ones dropped
    assert _buf(page, 'p')['d'] == {'r': ['r', 5]}
    assert page.to_dict()['p']['data'] == {'r': {'k': 'r', 'v': 5}}
    page.apply([_plot('m', {'f': ['k', 'v']}, 'e')])
    assert _buf(page, 'e') == {'f': ['k', 'v'], 'd': {}}


def test_list_buffer_append_doubles_capacity() -> None:
    page = _page(_plot('l', {'f': ['x', 'y'], 'd': [[1, 1]]}))
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [[1, 1]], 'n': 1}
    page.apply([{'k': 'p data __append__', 'v': [2, 2]}, {'k': 'p data __append__', 'v': [3, 3]}])
    assert _buf(page, 'p') == {'f': ['x', 'y'], 'd': [[1, 1], [2, 2], [3, 3], None], 'n': 4}
    page.apply([{'k': 'p data -1', 'v': [30, 30]}, {'k': 'p data 0 y', 'v': 10}, {'k': 'p data -1 x', 'v': 0}])
    assert _buf(page, 'p')['d'] == [[1, 10], [2, 2], [30, 30], None]  # field -1 reads from the end: the null slot
    page.apply([{'k': 'p data 99', 'v': [4, 4]}, {'k': 'p data', 'v': [[5, 5]]}])  # out of range and put both append
    assert _buf(page, 'p')['d'] == [[1, 10], [2, 2], [30, 30], [4, 4], [5, 5], None, None, None]
    assert page.to_dict()['p']['data'][-1] == {'x': 5, 'y': 5}


def test_list_buffer_declared_size_starts_at_last_slot() -> None:
    page = _page(_plot('l', {'f': ['x'], 'n': 2}))
    page.apply([{'k': 'p data __append__', 'v': [1]}, {'k': 'p data __append__', 'v': [2]}])
    assert _buf(page, 'p') == {'f': ['x'], 'd': [None, [1], [2], None], 'n': 4}


def test_buffer_ops_with_k() -> None:
    page = _page({'k': 'm', 'd': {'view': 'markdown'}}, _plot('m', {'f': ['k'], 'd': {'a': ['a']}}, 'p'))
    page.apply([
        {'k': 'm spark', 'c': {'f': ['a'], 'n': 2}},  # new attribute becomes a buffer
        {'k': 'p data', 'm': {'f': ['k'], 'd': {'z': ['z']}}},  # onto an existing buffer: no-op
    ])
    assert page.dump()['c']['m'] == {
        'd': {'view': 'markdown', '~spark': 0}, 'b': [{'c': {'f': ['a'], 'd': [None, None], 'n': 2, 'i': 0}}],
    }
    assert _buf(page, 'p')['d'] == {'a': ['a']}
    page.apply([{'k': 'p', 'f': {'f': ['x'], 'n': 1}}])  # bare card name: deletes the card
    assert 'p' not in page.cards


def test_form_visualization_buffer_and_quirk() -> None:
    viz = {'visualization': {'plot': {'marks': []}}}
    op = {
        'k': 'fv',
        'd': {'view': 'form', 'items': [viz, {'inline': {'items': [viz]}}], '~items.0.visualization.data': 0,
              '~items.1.inline.items.0.visualization.data': 1},
        'b': [{'m': {'f': ['a'], 'd': {'r': ['x']}}}, {'f': {'f': ['a'], 'n': 1}}],
    }
    page = _page(op)
    page.apply([{'k': 'fv items 0 visualization data s', 'v': ['y']}])
    dumped = page.dump()['c']['fv']
    assert dumped['d']['~items.0.visualization.data'] == 0
    assert dumped['d']['~items.1.inline.items.0.visualization.data'] == 1
    assert dumped['d']['items'][0]['visualization']['data'] == {}  # waved's leftover
    assert dumped['b'] == [{'m': {'f': ['a'], 'd': {'r': ['x'], 's': ['y']}}}, {'f': {'f': ['a'], 'd': [None], 'n': 1}}]
    assert StoredPage.from_dump(_wire(page.dump())).dump() == page.dump()


def test_invalid_buffer_reference_is_a_plain_attribute() -> None:
    page = _page({'k': 'p', 'd': {'~data': 3, '~x': 'y'}, 'b': [{'f': {'f': ['a'], 'n': 1}}]})
    assert page.dump() == {'c': {'p': {'d': {'~data': 3, '~x': 'y'}}}}


def test_packed_data_is_stored_verbatim() -> None:
    packed = 'rows:[["a","b"],[["x",1],["y",2]]]'
    page = _page({'k': 'pk', 'd': {'view': 'plot', 'data': packed}}, {'k': 'pk title', 'v': 'data:{"any":[1,2]}'})
    assert page.dump() == {'c': {'pk': {'d': {'view': 'plot', 'data': packed, 'title': 'data:{"any":[1,2]}'}}}}


# ----------------------------------------------------------------------------------------------------------------------
# Drop, store API, robustness, to_dict


def test_drop_mid_batch() -> None:
    page = _page({'k': 'a', 'd': {'x': 1}})
    assert page.apply([{'k': 'b', 'd': {'x': 2}}, {}, {'k': 'c', 'd': {'x': 3}}, {'k': 'c x', 'v': 4}]) is False
    assert page.dump() == {'c': {'c': {'d': {'x': 4}}}}
    assert page.apply([{'k': '', 'v': 1}]) is False
    assert page.dump() == {'c': {}}


def test_store_drop_and_api() -> None:
    store = PageStore()
    assert store.dump('/x') is None and store.get('/x') is None and '/x' not in store
    store.apply('/x', [{'k': 'a', 'd': {'x': 1}}])
    store.apply('/b', [])  # created on demand, even by an empty batch
    assert store.paths() == ['/b', '/x'] and len(store) == 2 and '/x' in store
    store.apply('/x', [{'k': 'a x', 'v': 2}, {}, {'k': 'n', 'd': {'y': 1}}])
    assert store.dump('/x') == {'c': {'n': {'d': {'y': 1}}}}
    store.apply('/x', [{}])
    assert store.dump('/x') == {'c': {}}
    store.delete('/x')
    store.delete('/nope')
    assert store.paths() == ['/b'] and store.get('/x') is None
    store.apply('/c', 'not a list')  # type: ignore[arg-type]
    assert '/c' not in store and [] not in store


def test_malformed_ops_are_ignored() -> None:
    page = _page({'k': 'm', 'd': {'view': 'markdown', 'content': 'x'}}, _plot('f', {'f': ['a'], 'n': 1}))
    before = page.dump()
    bad = [
        None, 1, 'k', [], ['m content'],
        {'k': 5, 'v': 1}, {'k': ['m'], 'v': 1}, {'k': {'a': 1}},
        {'k': 'm content', 'v': object()}, {'k': 'm content', 'v': {1: 'non-str key'}},
        {'k': 'x', 'd': []}, {'k': 'x', 'd': 'str'}, {'k': 'x', 'd': {}, 'b': {}}, {'k': 'x', 'd': {}, 'b': [1]},
        {'k': 'x', 'd': {'~a': 0}, 'b': [{'f': {'f': 'ab'}}]}, {'k': 'x', 'd': {}, 'b': [{'c': {'d': [1, 2]}}]},
        {'k': 'x', 'd': {}, 'b': [{'m': {'d': {'a': 1}}}]}, {'k': 'x', 'd': {}, 'b': [{'f': {'n': 'three'}}]},
        {'k': 'x', 'd': {}, 'b': [{'f': {'n': 1.5}}]}, {'k': 'x', 'd': {}, 'b': [{'f': {'n': 10 ** 12}}]},
        {'k': 'm s', 'c': 'bad'}, {'k': 'm s', 'l': {'f': [1]}}, {'k': 'm s', 'm': {'d': []}},
        {'k': 'm content x y z', 'v': 1}, {'k': 'p data 0 a b', 'v': 1}, {'k': 'p data.0', 'v': [1]},
        {'k': 'm content', 'v': [[[[[[1]]]]]] * 2 + [_deep(500)]},
    ]
    assert page.apply(bad) is True
    assert page.dump() == before
    assert page.apply('nope') is True  # type: ignore[arg-type]


def _deep(n: int) -> list:
    v: list = []
    for _ in range(n):
        v = [v]
    return v


def test_null_key_drops_like_waved() -> None:
    page = _page({'k': 'a', 'd': {'x': 1}})
    assert page.apply([{'k': None, 'v': 1}]) is False
    assert page.cards == {}


def test_random_ops_never_raise() -> None:
    rng = random.Random(1234)
    atoms = [None, 0, 1, -1, 2.5, True, '', 'x', 'a b', '~data', [], {}, [1, 2], ['a', 1], {'a': ['a', 1]}]
    segs = ['c', 'd', 'f', 'data', 'items', '0', '1', '-1', 'x', 'y', 'txt', 'label', 'items.0.textbox.label', '']

    def value(depth: int = 0) -> object:
        r = rng.random()
        if depth > 3 or r < 0.5:
            return rng.choice(atoms)
        if r < 0.75:
            return [value(depth + 1) for _ in range(rng.randint(0, 3))]
        return {rng.choice([*segs, 'f', 'n', 'i', 'view']): value(depth + 1) for _ in range(rng.randint(0, 3))}

    def op() -> object:
        r = rng.random()
        key = ' '.join(rng.choice(segs) for _ in range(rng.randint(1, 4)))
        if r < 0.05:
            return {}
        if r < 0.25:
            buf = {rng.choice('cfml'): {'f': ['x', 'y'], 'd': value(), 'n': rng.randint(-2, 4)}}
            return {'k': rng.choice(['c', 'd', 'f']), 'd': {'view': 'form', 'items': value(), '~data': 0}, 'b': [buf]}
        if r < 0.35:
            return {'k': key, rng.choice('cfml'): {'f': rng.choice([['x'], ['x', 'y'], None]), 'd': value()}}
        if r < 0.4:
            return value()
        return {'k': key, 'v': value()}

    store = PageStore()
    store.apply('/f', [FORM, _plot('c', {'f': ['x', 'y'], 'n': 2}, 'c'), _plot('l', {'f': ['x', 'y'], 'n': 2}, 'd')])
    for _ in range(300):
        store.apply('/f', [op() for _ in range(5)])
        json.dumps(store.dump('/f'))
        json.dumps(store.get('/f').to_dict())


def test_to_dict() -> None:
    page = _page(
        FORM,
        _plot('c', {'f': ['x', 'y'], 'd': [[1, 1], [2, 2], None], 'i': 1}, 'cyc'),
        _plot('f', {'f': ['x', 'y'], 'n': 2}, 'fix'),
        _plot('l', {'d': [[1, 2]]}, 'nofields'),
        {'k': 'fv', 'd': {'view': 'form', 'items': [{'visualization': {}}], '~items.0.visualization.data': 0},
         'b': [{'m': {'f': ['a'], 'd': {'r': ['x']}}}]},
    )
    page.apply([{'k': 'fix data 1', 'v': [5, 6]}])
    d = page.to_dict()
    assert d['f'] == FORM['d']
    assert d['cyc'] == {'view': 'plot', 'data': [{'x': 2, 'y': 2}, {'x': 1, 'y': 1}]}
    assert d['fix']['data'] == [{'x': 5, 'y': 6}]
    assert d['nofields']['data'] == [[1, 2]]
    assert d['fv']['items'] == [{'visualization': {'data': {'r': {'a': 'x'}}}}]
    assert json.loads(json.dumps(d)) == d
