import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import { isReservedPath, mountConsole } from './console-static.ts';

/** The console's static files and its client-side routes, on a bare app whose 404 is a problem. */
describe('Console static files', () => {
  let dir: string;
  let server: http.Server;
  let base: string;
  const get = async (urlPath: string, method = 'GET') => {
    const response = await fetch(base + urlPath, { method, redirect: 'manual' });
    return { status: response.status, headers: response.headers, text: await response.text() };
  };

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'triggers-console-'));
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    writeFileSync(path.join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(path.join(dir, 'favicon.svg'), '<svg/>');
    const app = express();
    app.get('/api/v1/inbox', (_req, res) => void res.json({ events: [] }));
    mountConsole(app, { distDir: dir });
    app.use((_req, res) => void res.status(404).type('application/problem+json').send('{"code":"not_found"}'));
    server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with a strict content security policy and no caching', async () => {
    const response = await get('/');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /text\/html/);
    assert.match(response.text, /id="root"/);
    assert.match(response.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    assert.equal(response.headers.get('cache-control'), 'no-cache');
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
  });

  it('answers client-side routes with the app', async () => {
    for (const page of ['/inbox', '/inbox/0190f3c2-0000-7000-8000-000000000000', '/subscriptions', '/jira']) {
      const response = await get(page);
      assert.equal(response.status, 200, page);
      assert.match(response.text, /id="root"/, page);
    }
    assert.equal((await get('/inbox', 'HEAD')).status, 200);
  });

  it('caches hashed assets for a year and other files not at all', async () => {
    const asset = await get('/assets/index-abc123.js');
    assert.equal(asset.status, 200);
    assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal((await get('/favicon.svg')).headers.get('cache-control'), 'no-cache');
  });

  it('never shadows the API: its paths and missing files fall through to the 404 problem', async () => {
    assert.equal((await get('/api/v1/inbox')).text, '{"events":[]}');
    for (const urlPath of ['/api/v1/nope', '/api', '/demo/nope', '/admin/x', '/health', '/ready', '/metrics', '/openapi.json', '/assets/missing.js', '/logo.png']) {
      const response = await get(urlPath);
      assert.equal(response.status, 404, urlPath);
      assert.match(response.text, /not_found/, urlPath);
    }
    assert.equal((await fetch(`${base}/inbox`, { method: 'POST' })).status, 404);
  });

  it('says how to build the console when its files are missing', async () => {
    rmSync(path.join(dir, 'index.html'));
    try {
      const response = await get('/inbox');
      assert.equal(response.status, 503);
      assert.match(response.text, /npm run build -w console/);
    } finally {
      writeFileSync(path.join(dir, 'index.html'), '<!doctype html><div id="root"></div>');
    }
  });

  it('knows the reserved prefixes exactly', () => {
    assert.equal(isReservedPath('/api'), true);
    assert.equal(isReservedPath('/demo/inbox'), true);
    assert.equal(isReservedPath('/openapi.json'), true);
    assert.equal(isReservedPath('/apiary'), false);
    assert.equal(isReservedPath('/demonstration'), false);
    assert.equal(isReservedPath('/'), false);
  });
});
