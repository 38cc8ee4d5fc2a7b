/**
 * The opening handshake of RFC 6455 (section 4.2.1), checked before anything is verified or spliced:
 * a request the pod's Chromium would refuse with a 500 (an empty Sec-WebSocket-Version did) is a
 * clean 400 here, and never reaches the pod.
 */
import type { IncomingMessage } from 'node:http';

/** A 16-byte nonce, base64: 22 characters and `==`. */
const KEY = /^[A-Za-z0-9+/]{22}==$/;

/** Why `req` is not a valid WebSocket opening handshake, or undefined when it is. */
export function handshakeProblem(req: IncomingMessage): string | undefined {
  if (req.method !== 'GET') return 'A WebSocket handshake is a GET request';
  if (req.httpVersion !== '1.1') return 'A WebSocket handshake needs HTTP/1.1';
  if (req.headers.upgrade?.trim().toLowerCase() !== 'websocket') return 'Upgrade must be websocket';
  const connection = (req.headers.connection ?? '').toLowerCase().split(',');
  if (!connection.some((token) => token.trim() === 'upgrade')) return 'Connection must include Upgrade';
  const key = req.headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key.trim()))
    return 'Sec-WebSocket-Key must be a base64 16-byte nonce';
  if (req.headers['sec-websocket-version']?.trim() !== '13') return 'Sec-WebSocket-Version must be 13';
  return undefined;
}
