// A lite site's service worker: the site's content-addressed files (files/<hash>/...: Pyodide, the packages, the UI)
// come from Cache Storage once fetched, so a second visit starts from the cache, and works with no network at all.
// The rest of the site (its page, scripts and lite.json) is fetched first and falls back to the cache offline.
// A first visit's page is not yet controlled while it loads: once it runs, it says what it loaded ({t:'keep', urls})
// and those files are kept too.

const CACHE = 'wave-jupyter-lite';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

const own = (url) => {
  const scope = new URL(self.registration.scope);
  return url.origin === scope.origin && url.pathname.startsWith(scope.pathname);
};

self.addEventListener('message', (event) => {
  const m = event.data || {};
  if (m.t !== 'keep' || !Array.isArray(m.urls)) return;
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      Promise.all(
        m.urls
          .map((u) => new URL(u))
          .filter(own)
          .map(async (url) => (await cache.match(url)) || cache.add(url).catch(() => undefined))
      )
    )
  );
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  const immutable = url.pathname.slice(scope.pathname.length).startsWith('files/');
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      if (immutable) {
        const hit = await cache.match(request);
        if (hit) return hit;
      }
      try {
        const response = await fetch(request);
        if (response.ok) cache.put(request, response.clone());
        return response;
      } catch (e) {
        const hit = await cache.match(request);
        if (hit) return hit;
        throw e;
      }
    })
  );
});
