/**
 * Raw HTTP over a TCP socket, for requests no well-behaved client sends (smuggling, malformed
 * upgrades, partial headers). Resolves with whatever the server wrote before it closed the socket,
 * or stopped writing for `idleMs`.
 */
import net from 'node:net';

export interface RawResult {
  /** Everything the server wrote. */
  text: string;
  /** The status code of the first response line, if any. */
  status: number | undefined;
  /** True when the server closed (or reset) the connection; false when we gave up waiting. */
  closed: boolean;
}

export function rawRequest(
  port: number,
  data: string | Buffer | (string | Buffer)[],
  options: {
    idleMs?: number;
    host?: string;
    /** Resolve once one response's headers arrived. */ headersOnly?: boolean;
  } = {},
): Promise<RawResult> {
  const chunks = Array.isArray(data) ? data : [data];
  return new Promise((resolve) => {
    const socket = net.connect(port, options.host ?? '127.0.0.1');
    let text = '';
    let idle: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(idle);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1];
      resolve({ text, status: status === undefined ? undefined : Number(status), closed });
    };
    const arm = () => {
      clearTimeout(idle);
      idle = setTimeout(() => finish(false), options.idleMs ?? 2_000);
    };
    socket.on('connect', () => {
      for (const chunk of chunks) socket.write(chunk);
      arm();
    });
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (options.headersOnly && /^HTTP\/1\.[01] \d{3}[^]*?\r\n\r\n/.test(text)) return finish(false);
      arm();
    });
    socket.on('error', () => finish(true));
    socket.on('close', () => finish(true));
  });
}

/** A WebSocket upgrade request's header block for `path` (a valid one unless `headers` override it). */
export function upgradeRequest(path: string, headers: Record<string, string | undefined> = {}): string {
  const all: Record<string, string | undefined> = {
    Host: '127.0.0.1',
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = Object.entries(all)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}: ${v}\r\n`);
  return `GET ${path} HTTP/1.1\r\n${lines.join('')}\r\n`;
}

/**
 * Sends a WebSocket upgrade and resolves with the status of the answer (101 when accepted), closing
 * the socket as soon as the status line arrived. undefined: the server closed without answering.
 */
export function upgradeStatus(
  port: number,
  path: string,
  headers: Record<string, string | undefined> = {},
): Promise<number | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(upgradeRequest(path, headers)));
    let text = '';
    const timer = setTimeout(() => done(undefined), 10_000);
    const done = (status: number | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(status);
    };
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) done(Number(m[1]));
    });
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
  });
}
