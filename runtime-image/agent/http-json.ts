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

/** The request body as text, at most MAX_BODY bytes. */
export async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
