"""An unmodified h2o_wave script (no app): it saves a page and uses the cache of whatever Wave server its environment
names. The hub tests run it in its own process."""

import json
import sys

from h2o_wave import site, ui

route = sys.argv[1] if len(sys.argv) > 1 else '/ext'
said = sys.argv[sys.argv.index('--say') + 1] if '--say' in sys.argv else 'world'
page = site[route]
page['m'] = ui.markdown_card(box='1 1 2 2', title='From a script', content='hello')
page.save()
page['m'].content = said
page.save()
site.cache.set('script', 'said', {'n': 1})
print(json.dumps({'load': site.load(route), 'given': site.cache.get('notebook', 'said'),
                  'keys': site.cache.keys('script')}))
if '--drop' in sys.argv:
    page.drop()  # as `del site[route]` records it; the save sends it
    page.save()
