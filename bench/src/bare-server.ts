/**
 * The floor for any Node HTTP cache: a bare `node:http` server answering every request with one fixed
 * body (the extension's own answer, byte for byte, so sizes match). Started as its own process, like the
 * extension, and told its body over IPC.
 */
import http from 'node:http';

interface Start {
  readonly body: string;
}

process.once('message', (message: Start) => {
  const body = Buffer.from(message.body, 'utf8');
  const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
  const server = http.createServer((req, res) => {
    // Consume the (empty) request body as any real server must before the socket can be reused.
    req.resume();
    res.writeHead(200, headers);
    res.end(body);
  });
  server.keepAliveTimeout = 10_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.on('disconnect', () => server.close(() => process.exit(0)));
});
