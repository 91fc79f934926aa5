import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';

// `npm run dev -w console` serves the console with hot reload on :5173 and proxies the API to a
// server started with `npm start` (port 8080). `npm run build -w console` writes dist/, which the
// inbox service serves at `/`.
const api = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react(), tailwindcss()],
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    proxy: Object.fromEntries(['/api', '/demo', '/admin', '/health', '/ready', '/openapi.json'].map((path) => [path, api])),
  },
});
