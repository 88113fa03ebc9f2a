'use strict';

// End-to-end tests against a running deployment.
//   BASE_URL        where the service answers, e.g. https://staging.example.com (required)
//   EXPECT_VERSION  when set, /health must report exactly this version (body and X-Version)

const assert = require('node:assert/strict');
const { test } = require('node:test');

const TIMEOUT_MS = 10_000;
const baseUrl = (process.env.BASE_URL || '').replace(/\/+$/, '');
const expectVersion = process.env.EXPECT_VERSION || '';

function get(path) {
  if (!/^https?:\/\//.test(baseUrl)) {
    throw new Error('BASE_URL must be set to the http(s) URL of the deployment under test');
  }
  return fetch(`${baseUrl}${path}`, { signal: AbortSignal.timeout(TIMEOUT_MS) });
}

test('the service reports healthy', async () => {
  const res = await get('/health');
  assert.equal(res.status, 200);
  assert.equal((await res.json()).status, 'ok');
});

test('the deployed version is the expected one', { skip: !expectVersion && 'EXPECT_VERSION unset' }, async () => {
  const res = await get('/health');
  const body = await res.json();
  assert.equal(body.version, expectVersion, 'version in the /health body');
  assert.equal(res.headers.get('x-version'), expectVersion, 'X-Version header');
});

test('the root answers', async () => {
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.equal((await res.json()).service, 'hello-api');
});

test('unknown paths are 404', async () => {
  const res = await get('/definitely-not-here');
  assert.equal(res.status, 404);
  await res.body?.cancel();
});
