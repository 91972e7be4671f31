// Bundles host.js (VS Code's widget renderer and a Jupyter kernel connection) into build/, with requirejs beside it.
// The outputs are generated, never committed: `npm ci && npm run build` (scripts/test.sh does it).
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

mkdirSync('build', { recursive: true });
await build({ entryPoints: ['host.js'], bundle: true, format: 'esm', target: 'es2022', outfile: 'build/host.js',
  logLevel: 'warning', loader: { '.css': 'empty' } });
copyFileSync('node_modules/requirejs/require.js', 'build/require.js');
copyFileSync('webview.html', 'build/webview.html');
copyFileSync('workbench.html', 'build/workbench.html');
