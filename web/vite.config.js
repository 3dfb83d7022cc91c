import { defineConfig } from 'vite';

// Preact through esbuild's automatic JSX runtime: no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    sourcemap: false,
    // No data: URIs and no inline modulepreload polyfill: everything is a file
    // served from 'self' (CSP script-src 'self', img-src 'self').
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: true,
  },
  server: {
    // `npm run dev` proxies the API to a local taskd (or the mock: TASKD_API=http://127.0.0.1:8090).
    proxy: { '/api': process.env.TASKD_API || 'http://127.0.0.1:8080' },
  },
});
