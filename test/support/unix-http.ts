/** One HTTP request over a unix socket (a local pod's agent); resolves with the status. */
import http from 'node:http';

export function unixGet(
  socketPath: string,
  path: string,
  headers: Readonly<Record<string, string>> = {},
  method = 'GET',
  body?: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath, path, method, headers, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end(body);
  });
}
