import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type Response } from 'express';

/** Where the console's sources and its built files live (the `console` workspace). */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console');
export const CONSOLE_DIST_DIR = path.join(CONSOLE_DIR, 'dist');

/** Paths the console never answers, so an unknown API URL stays a problem+json 404. */
const RESERVED = ['/api', '/admin', '/demo', '/health', '/ready', '/metrics', '/openapi.json'];

export function isReservedPath(urlPath: string): boolean {
  return RESERVED.some((prefix) => urlPath === prefix || urlPath.startsWith(`${prefix}/`));
}

// Vite's build loads only same-origin scripts and styles; the console calls only this origin.
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'self'",
  "form-action 'self'",
].join('; ');

function setPageHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Triggers console — not built</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1f2937;line-height:1.5}
h1{color:#C2410C;font-size:1.5rem}code,pre{background:#f3f4f6;border-radius:6px;padding:.1rem .3rem}pre{padding:.75rem;overflow:auto}</style></head>
<body><h1>The console is not built yet</h1>
<p>The API is running; only the web console's files are missing (<code>console/dist</code>).
<code>npm start</code> builds them on start-up when it can. To build them yourself:</p>
<pre>npm run build -w console</pre>
<p>then reload this page. The API's description is at <a href="/openapi.json">/openapi.json</a>.</p></body></html>
`;

/**
 * Serves the built console: hashed assets cached for a year, `index.html` for `/` and for every
 * other page path (client-side routes), never for the API's paths. Checks for the build per request,
 * so building after start-up needs no restart.
 */
export function mountConsole(app: Express, options: { distDir?: string } = {}): void {
  const distDir = options.distDir ?? CONSOLE_DIST_DIR;
  const indexFile = path.join(distDir, 'index.html');
  const assets = express.static(distDir, {
    index: false,
    redirect: false,
    fallthrough: true,
    setHeaders(res, filePath) {
      res.setHeader('X-Content-Type-Options', 'nosniff');
      const immutable = filePath.startsWith(path.join(distDir, 'assets') + path.sep);
      res.setHeader('Cache-Control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });

  app.use((req, res, next) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || isReservedPath(req.path)) return next();
    assets(req, res, () => {
      // Not a file: a page path gets the app; a missing file (it has an extension) a 404.
      if (path.posix.extname(req.path) !== '' && req.path !== '/index.html') return next();
      setPageHeaders(res);
      res.setHeader('Cache-Control', 'no-cache');
      if (!existsSync(indexFile)) {
        res.status(503).type('html').send(NOT_BUILT_PAGE);
        return;
      }
      res.sendFile(indexFile, (error) => {
        if (error && !res.headersSent) next(error);
      });
    });
  });
}
