/** A page served on 127.0.0.1 for browsers to open (tests never reach the internet). */
import { listenOnPagePort } from './page-ports.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalSite {
  url: string;
  /** The User-Agent header of every request seen. */
  userAgents: string[];
  close(): Promise<void>;
}

/** A toy login: /login sets a cookie and a localStorage item; /account shows whether the cookie came back. */
export const LOGIN = { cookie: 'cookie-secret-4711', localStorage: 'ls-secret-0815' } as const;
const html = (res: http.ServerResponse, body: string) => {
  res.setHeader('Content-Type', 'text/html');
  res.end(`<!doctype html><html><head><title>Ventus login</title></head><body>${body}</body></html>`);
};
const LOGIN_PAGES: Record<string, (req: http.IncomingMessage, res: http.ServerResponse) => void> = {
  '/login': (_req, res) => {
    res.setHeader('Set-Cookie', `ventus_login=${LOGIN.cookie}; Path=/; Max-Age=3600; HttpOnly`);
    html(res, `<h1>Welcome</h1><script>localStorage.setItem('auth_token', '${LOGIN.localStorage}')</script>`);
  },
  '/account': (req, res) =>
    html(
      res,
      (req.headers.cookie ?? '').includes(`ventus_login=${LOGIN.cookie}`)
        ? '<h1 id="state">Logged in as Ada</h1>'
        : '<h1 id="state">Please log in</h1>',
    ),
};

export async function serveLocalSite(): Promise<LocalSite> {
  const userAgents: string[] = [];
  const server = http.createServer((req, res) => {
    userAgents.push(req.headers['user-agent'] ?? '');
    if (req.url?.startsWith('/set-cookie')) {
      res.setHeader('Set-Cookie', 'secret_sid=abc123; Path=/; Max-Age=3600');
    }
    const login = LOGIN_PAGES[(req.url ?? '').split('?')[0] ?? ''];
    if (login) return login(req, res);
    res.setHeader('Content-Type', 'text/html');
    res.end(
      '<!doctype html><html><head><title>Ventus test page</title></head><body><h1>hello</h1></body></html>',
    );
  });
  await listenOnPagePort(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    userAgents,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
