// The Wave UI's files served by a static site (a lite site, a JupyterLite site) instead of by a kernel: its
// manifest (ui.json: the h2o-wave version, index.html, and each file's byte range) and one file holding them all
// (one request, not ~400), as wave_jupyter/lite/ui.py writes them.

/** The manifest at `url` (absolute, or relative to `base`): {version, index, names, files, bin (absolute)}. */
export async function siteManifest(url, base) {
  const where = new URL(url, base);
  const response = await fetch(where);
  if (!response.ok) throw new Error(`${where.pathname}: ${response.status}`);
  const manifest = await response.json();
  return { ...manifest, names: Object.keys(manifest.files), bin: new URL(manifest.bin, where).href };
}

/** The files `names` of a site manifest, as [name, ArrayBuffer] pairs (the bundle fetched once per manifest). */
export async function siteFiles(manifest, names) {
  manifest.loading = manifest.loading || fetch(manifest.bin).then((r) => {
    if (!r.ok) throw new Error(`${new URL(manifest.bin).pathname}: ${r.status}`);
    return r.arrayBuffer();
  });
  const buffer = await manifest.loading;
  return names.map((name) => {
    const [start, end] = manifest.files[name];
    return [name, buffer.slice(start, end)];
  });
}
