/** Small HTTP helpers for the sim runtime server (no framework: it must start in milliseconds). */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';

// The agent's own JSON helpers: the sim speaks its protocol.
export { readBody, sendJson } from '../../runtime-image/agent/http-json.ts';

/** Answers a WebSocket upgrade with a plain status line and drops the socket. */
export function rejectUpgrade(socket: Duplex, status: number, text: string): void {
  if (socket.writable)
    socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  socket.destroy();
}

/** The request's path without its query string. */
export function pathOf(req: IncomingMessage): string {
  return (req.url ?? '/').split('?')[0] ?? '/';
}
