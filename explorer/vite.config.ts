import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vite'

/**
 * The dispute explorer's build (`npm run build:explorer`): explorer/dist/index.html and hashed assets under
 * assets/, which the service serves at /explore. Preact's JSX runtime, no plugin; no inline script or style, so
 * that the pages run under a CSP that admits only the service's own files.
 */
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/explore/',
  publicDir: false,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Inline assets would be data: URLs in the style sheet or script; every asset stays a file of its own.
    assetsInlineLimit: 0,
    // The polyfill is for browsers without modulepreload; every browser the pages are for has it.
    modulePreload: { polyfill: false },
    target: 'es2022',
    reportCompressedSize: false,
  },
})
