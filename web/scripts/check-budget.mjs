// First-load JavaScript budget: gzip every script index.html loads (plus
// modulepreloads) and fail above 200 KiB. `go test ./web` checks the same
// (TestFirstLoadJavaScriptBudget); this is the Node-side check for `npm run`.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const BUDGET = 200 * 1024;
const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const html = readFileSync(join(dist, 'index.html'), 'utf8');
const urls = [
  ...[...html.matchAll(/<script\b[^>]*\bsrc="([^"]+)"/g)].map((m) => m[1]),
  ...[...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*href="([^"]+)"/g)].map((m) => m[1]),
];
let total = 0;
for (const u of urls) {
  const b = readFileSync(join(dist, u.replace(/^\//, '')));
  const gz = gzipSync(b).length;
  total += gz;
  console.log(`${u.padEnd(40)} ${String(b.length).padStart(7)} B  ${String(gz).padStart(6)} B gzipped`);
}
const lazy = readdirSync(join(dist, 'assets'))
  .filter((f) => f.endsWith('.js') && !urls.includes('/assets/' + f))
  .map((f) => [f, gzipSync(readFileSync(join(dist, 'assets', f))).length]);
for (const [f, n] of lazy) console.log(`(lazy) /assets/${f}`.padEnd(47) + `${String(n).padStart(6)} B gzipped`);
console.log(`first load: ${(total / 1024).toFixed(1)} KiB gzipped JavaScript of ${BUDGET / 1024} KiB budget`);
if (total > BUDGET) {
  console.error('over budget');
  process.exit(1);
}
