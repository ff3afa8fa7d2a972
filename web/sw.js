// The dashboard's service worker, for offline use. scripts/web.sh writes static/app/sw.js from
// this template: {{CACHE}} becomes a name carrying the build's hash, {{HASHED}} the list of the
// build's content-hashed files.
//
// - install: precache the hashed files (wasm, glue, worker loader) and the page;
// - hashed files: cache first (a name never changes content);
// - the page (navigations, index.html) and the unhashed files (manifest, icons): network
//   first, the precached copy when the network fails. A fresh page is not written to the cache:
//   it may name files of a newer build that this cache does not hold, and the newer build's
//   own worker (sw.js is never cached, see static/_headers) brings its whole set;
// - anything else — the API under /v1/, other origins, non-GET requests — is not touched.
// - activate: delete the caches of older builds, then control the open pages at once.
const CACHE = '{{CACHE}}';
const HASHED = {{HASHED}};
const UNHASHED = ['./', './index.html', './manifest.webmanifest', './icon-192.png', './icon-512.png'];
const scope = new URL(self.registration.scope);
const hashed = new Set(HASHED.map((f) => new URL(f, scope).pathname));

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll([...UNHASHED, ...HASHED])));
  self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('ebb-app-') && name !== CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

async function networkFirst(request, fallback) {
  try {
    return await fetch(request);
  } catch (offline) {
    const cache = await caches.open(CACHE);
    const hit = (await cache.match(request, { ignoreSearch: true })) ?? (fallback && (await cache.match(fallback)));
    if (hit) return hit;
    throw offline;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  const url = new URL(request.url);
  // Only this app's own files: the API (/v1/...), /metrics and other origins go to the network.
  if (request.method !== 'GET' || url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  if (url.pathname.endsWith('/sw.js')) return;
  if (hashed.has(url.pathname)) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === 'navigate') {
    event.respondWith(networkFirst(request, './index.html'));
  } else {
    event.respondWith(networkFirst(request, null));
  }
});
