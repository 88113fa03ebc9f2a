'use strict';

// hello-api: the service the bundled cdgen example deploys. Standard library only.
//   GET /health  200 {"status":"ok","version":"<APP_VERSION>"} and an X-Version header
//   GET /        a short greeting
// The version is baked into the image at build time (Dockerfile ARG APP_VERSION), so a
// smoke test can prove which build is actually serving traffic.

const http = require('node:http');

function sendJson(res, status, body, headers = {}) {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(res.req.method === 'HEAD' ? undefined : payload);
}

function createServer({ version = process.env.APP_VERSION || 'dev' } = {}) {
  const routes = {
    '/health': (req, res) =>
      // no-store: a cached answer would let a smoke test pass against an old build.
      sendJson(res, 200, { status: 'ok', version }, { 'Cache-Control': 'no-store' }),
    '/': (req, res) => sendJson(res, 200, { service: 'hello-api', message: 'hello' }),
  };

  return http.createServer((req, res) => {
    res.setHeader('X-Version', version);
    const { pathname } = new URL(req.url, 'http://localhost');
    const route = routes[pathname];
    if (!route) {
      sendJson(res, 404, { error: 'not found' });
    } else if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
    } else {
      route(req, res);
    }
  });
}

function main() {
  const port = Number.parseInt(process.env.PORT || '8080', 10);
  const host = process.env.HOST || '0.0.0.0';
  const server = createServer();
  server.listen(port, host, () => {
    const { address, port: bound } = server.address();
    console.log(`hello-api ${process.env.APP_VERSION || 'dev'} listening on ${address}:${bound}`);
  });
  // As PID 1 in a container, Node gets no default SIGTERM handling: stop accepting
  // connections and exit so a rollout does not wait for the kill timeout.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.on(signal, () => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
    });
  }
}

if (require.main === module) {
  main();
}

module.exports = { createServer };
