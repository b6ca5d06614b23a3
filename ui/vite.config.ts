import { defineConfig } from 'vitest/config';

// Preact's JSX through esbuild's automatic runtime: no framework plugin needed.
export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  // Tauri serves the built files from its own protocol; relative asset paths keep them portable.
  base: './',
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // One small bundle; no inline scripts, so the strict CSP (script-src 'self') holds.
    modulePreload: { polyfill: false },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
