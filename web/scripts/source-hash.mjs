// The fingerprint of everything that goes into dist/. web/embed_test.go computes
// the same value in Go (sourceHash) and fails when dist/.source-hash differs, so a
// source change without `npm run build` is caught by `go test ./web`.
//
// Algorithm (keep in step with embed_test.go):
//   files  = SOURCE_FILES plus every file under SOURCE_DIRS, as paths relative to web/
//            with "/" separators, sorted bytewise
//   for each file: sha256.update(path + "\n" + len(content) + "\n" + content + "\n")
//   content has CRLF turned into LF (a Windows checkout gives the same hash)
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const SOURCE_FILES = ['index.html', 'package.json', 'package-lock.json', 'vite.config.js'];
export const SOURCE_DIRS = ['src', 'public', 'scripts'];

function walk(root, rel, out) {
  for (const name of readdirSync(join(root, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    if (statSync(join(root, r)).isDirectory()) walk(root, r, out);
    else out.push(r);
  }
}

export function sourceFiles(webDir) {
  const files = [...SOURCE_FILES];
  for (const d of SOURCE_DIRS) walk(webDir, d, files);
  return files.sort((a, b) => (Buffer.compare(Buffer.from(a), Buffer.from(b))));
}

export function sourceHash(webDir) {
  const h = createHash('sha256');
  for (const f of sourceFiles(webDir)) {
    let content = readFileSync(join(webDir, f));
    content = Buffer.from(content.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
    h.update(`${f}\n${content.length}\n`);
    h.update(content);
    h.update('\n');
  }
  return h.digest('hex');
}
