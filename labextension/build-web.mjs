// Bundles the web side that is not the lab extension (src/web/, and src/lite/ for lite sites) with esbuild:
//   src/web/frame.js   -> build-web/frame.txt                      (one plain script: inlined into the frame's srcdoc)
//   src/web/view.js    -> ../wave_jupyter/jupyter/static/view.js   (the anywidget module of the live view)
//   src/lite/page.js, worker.js, sw.js -> ../wave_jupyter/lite/static/ (a lite site's page, Python worker, cache)
// The outputs are generated, never committed. `node build-web.mjs` (npm run build:web).
import { build } from 'esbuild';

const common = { bundle: true, target: 'es2022', legalComments: 'none', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/web/frame.js'], format: 'iife', outfile: 'build-web/frame.txt' });
await build({
  ...common,
  entryPoints: ['src/web/view.js'],
  format: 'esm',
  loader: { '.txt': 'text' },
  outfile: '../wave_jupyter/jupyter/static/view.js',
});
await build({
  ...common,
  entryPoints: ['src/lite/page.js', 'src/lite/worker.js', 'src/lite/sw.js'],
  format: 'esm',
  loader: { '.txt': 'text' },
  outdir: '../wave_jupyter/lite/static',
});
