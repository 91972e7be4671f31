// The Wave UI's files, cached in this browser (the page's origin) by h2o-wave version, so that later views (and
// later visits of a lite site) start from the cache. One IndexedDB record per version, {names, buffers}: one read of
// ~8 MB takes a fraction of what ~400 reads take.

const DB = 'wave-jupyter-ui';

/** The cache's database, or null where IndexedDB is unavailable (a slower start, nothing worse). */
export function openCache() {
  return new Promise((resolve) => {
    try {
      const request = indexedDB.open(DB, 1);
      request.onupgradeneeded = () => request.result.createObjectStore('files');
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => resolve(null);
    } catch (e) {
      resolve(null);
    }
  });
}

/** The cached files of `version` ({names, buffers}), or null. */
export function cachedBundle(db, version) {
  return new Promise((resolve) => {
    if (!db) return resolve(null);
    try {
      const request = db.transaction('files', 'readonly').objectStore('files').get(`bundle/${version}`);
      request.onsuccess = () => resolve(request.result || null);
      request.onerror = () => resolve(null);
    } catch (e) {
      resolve(null);
    }
  });
}

/** Keep `files` ([name, ArrayBuffer] pairs) as the bundle of `version`; other versions' records go. */
export function keepBundle(db, version, files) {
  if (!db) return;
  try {
    const store = db.transaction('files', 'readwrite').objectStore('files');
    store.clear(); // other versions' files, and the one-file-per-record layout of older releases
    store.put({ names: files.map(([n]) => n), buffers: files.map(([, b]) => b) }, `bundle/${version}`);
  } catch (e) {
    /* a full or unavailable cache only costs a slower start */
  }
}
