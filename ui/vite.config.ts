import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

// The server serves the built UI at /admin/ (src/http/ui.rs). `npm run dev` proxies the API
// and protocol endpoints to a local `latchkey serve` (LATCHKEY_URL, default :8000).
const target = process.env.LATCHKEY_URL ?? 'http://127.0.0.1:8000'

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: { target: 'es2022', chunkSizeWarningLimit: 400 },
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
