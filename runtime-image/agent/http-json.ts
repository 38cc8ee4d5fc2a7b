/** JSON over the agent's HTTP server (and the sim runtime server's, which speaks the same protocol). */
import type { IncomingMessage, ServerResponse } from 'node:http';

// A storage_state may be large: as large as the broker's body limit (5 MiB) lets it be, and more.
const MAX_BODY = 16 * 1024 * 1024;

/** A JSON (or empty) answer; nothing when the response is already sent or gone. */
export function sendJson(res: ServerResponse, status: number, body?: unknown): void {
  if (res.headersSent || res.destroyed) return;
  if (body === undefined) {
    res.writeHead(status).end();
    return;
  }
  const json = JSON.stringify(body);
  res
    .writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
    .end(json);
}

/**
 * The request body as text, at most MAX_BODY bytes. With 'data' events rather than the stream's async
 * iterator, whose first use in a process costs about 0.5 ms more: the claim is a pod's first body.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        req.destroy();
        reject(new Error('body too large'));
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    // Also when the client goes away before the body ends (ECONNRESET, "aborted").
    req.once('error', reject);
  });
}
