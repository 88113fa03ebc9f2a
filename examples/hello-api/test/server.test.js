'use strict';

// Unit tests: the real HTTP server on an ephemeral loopback port, in-process.

const assert = require('node:assert/strict');
const { after, before, test } = require('node:test');
const { createServer } = require('../server.js');

let server;
let base;

before(async () => {
  server = createServer({ version: '0123abc' });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => new Promise((resolve) => server.close(resolve)));

test('GET /health answers ok with the version in the body and X-Version', async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^application\/json/);
  assert.equal(res.headers.get('x-version'), '0123abc');
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.deepEqual(await res.json(), { status: 'ok', version: '0123abc' });
});

test('HEAD /health answers 200 without a body', async () => {
  const res = await fetch(`${base}/health`, { method: 'HEAD' });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), '');
});

test('GET / answers a greeting', async () => {
  const res = await fetch(`${base}/?from=test`);
  assert.equal(res.status, 200);
  assert.equal((await res.json()).service, 'hello-api');
});

test('unknown paths answer 404', async () => {
  const res = await fetch(`${base}/nope`);
  assert.equal(res.status, 404);
  assert.deepEqual(await res.json(), { error: 'not found' });
});

test('other methods answer 405 with Allow', async () => {
  const res = await fetch(`${base}/health`, { method: 'POST' });
  assert.equal(res.status, 405);
  assert.equal(res.headers.get('allow'), 'GET, HEAD');
  await res.body?.cancel();
});

test('the version defaults to APP_VERSION, then "dev"', async () => {
  const saved = process.env.APP_VERSION;
  let byDefault;
  let fromEnv;
  try {
    delete process.env.APP_VERSION;
    byDefault = createServer();
    process.env.APP_VERSION = 'from-env';
    fromEnv = createServer();
  } finally {
    if (saved === undefined) delete process.env.APP_VERSION;
    else process.env.APP_VERSION = saved;
  }
  assert.equal(await versionOf(byDefault), 'dev');
  assert.equal(await versionOf(fromEnv), 'from-env');
});

async function versionOf(srv) {
  await new Promise((resolve) => srv.listen(0, '127.0.0.1', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${srv.address().port}/health`);
    return (await res.json()).version;
  } finally {
    await new Promise((resolve) => srv.close(resolve));
  }
}
