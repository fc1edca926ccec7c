import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// The server serves the built UI at /admin/ (src/http/ui.rs). `npm run dev` proxies the API
// and protocol endpoints to a local `latchkey serve` (LATCHKEY_URL, default :8000).
const target = process.env.LATCHKEY_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 400,
    rolldownOptions: {
      output: {
        // Pages load on first visit (src/routes.tsx). React itself changes least often, so it
        // gets a chunk of its own; the icons go together rather than one tiny file each.
        codeSplitting: {
          groups: [
            { name: 'react', test: /[\\/]node_modules[\\/](react|react-dom|scheduler)[\\/]/ },
            { name: 'icons', test: /[\\/]node_modules[\\/]lucide-react[\\/]/ },
            { name: 'forms', test: /[\\/]node_modules[\\/]react-hook-form[\\/]/ },
          ],
        },
      },
    },
  },
  experimental: {
    // The server moves index.html's `/admin/` URLs under an issuer's path (/realms/dev/admin/);
    // URLs inside the JS (the lazy pages' preloads) are made relative to the importing chunk
    // so they follow it there too.
    renderBuiltUrl: (_file, { hostType }) => (hostType === 'js' ? { relative: true } : undefined),
  },
  server: {
    proxy: {
      '/admin/api': { target, changeOrigin: false },
      '/.well-known': target,
    },
  },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test/setup.ts'],
  },
})
