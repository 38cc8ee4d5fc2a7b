/**
 * The browser's own network: on the local driver, Chromium (and everything it starts) runs in a
 * network namespace of its own (bubblewrap), where 127.0.0.1 is nobody's but its own. Its only ways
 * out are two unix-socket bridges in `bridgeDir`, both ends of which the agent controls:
 *   - egress: Chromium's proxy (127.0.0.1:6667 inside) -> `egress.sock` -> the agent's forwarding
 *     proxy, which checks every target after DNS resolution (forward-proxy.ts, egress-policy.ts);
 *   - DevTools: `devtools.sock` -> Chromium's DevTools on 127.0.0.1:6666 inside, for the agent alone.
 * Whatever a page or a CDP client does (a `direct://` proxy for a new context, WebRTC, a port scan),
 * no packet reaches the host's loopback, another pod, the control plane, or the network.
 * The namespace also gets its own pid space, and `hide` directories are emptied in its view (the
 * agent's own socket), so the browser sees neither the agent's process nor its door.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The ports inside the browser's network: fixed, since nothing else lives there, and both on the
 * Fetch standard's list of bad ports (https://fetch.spec.whatwg.org/#bad-port). Chromium refuses a
 * page's fetch, navigation and WebSocket to a bad port before it sends a byte, so no page reaches
 * its own browser's DevTools or the egress bridge, not even in a context a CDP client made with
 * `direct://` and universal network access. Chromium still listens on one and uses the other as its
 * proxy. A Kubernetes Pod is a network of its own too: its image sets DEVTOOLS_PORT to the same port.
 */
export const SANDBOX_DEVTOOLS_PORT = 6666;
export const SANDBOX_PROXY_PORT = 6667;

export interface BrowserNetns {
  /** Where the bridge sockets live (visible to the agent and to the browser's namespace). */
  bridgeDir: string;
  /** Directories emptied (a tmpfs) in the browser's view. */
  hide: string[];
}

export const devtoolsSocket = (netns: BrowserNetns): string => join(netns.bridgeDir, 'devtools.sock');
export const egressSocket = (netns: BrowserNetns): string => join(netns.bridgeDir, 'egress.sock');

/** systemd's socket proxy (Debian: package systemd), where this system has it. */
const SOCKET_PROXYD = ['/usr/lib/systemd/systemd-socket-proxyd', '/lib/systemd/systemd-socket-proxyd'].find(
  (p) => existsSync(p),
);
const SOCKET_ACTIVATE = ['/usr/bin/systemd-socket-activate', '/bin/systemd-socket-activate'].find((p) =>
  existsSync(p),
);

/**
 * A shell command that relays every connection to `listen` on to `target`, in the background, its
 * socket file (if any) open to its owner alone. systemd-socket-proxyd serves every connection in one process
 * (spliced); socat, where it is missing, forks a process per connection (~2.7 ms more per WebSocket
 * open on the DevTools bridge, and per connection on the egress one).
 */
function bridge(listen: { path: string } | { port: number }, target: { path: string } | { port: number }) {
  if (SOCKET_PROXYD && SOCKET_ACTIVATE) {
    const from = 'path' in listen ? listen.path : `127.0.0.1:${listen.port}`;
    const to = 'path' in target ? target.path : `127.0.0.1:${target.port}`;
    const unlink = 'path' in listen ? `rm -f ${listen.path}; ` : '';
    // Its socket file is 0644: connecting takes write permission, which only the pod's user has.
    return `(${unlink}SYSTEMD_LOG_LEVEL=warning exec ${SOCKET_ACTIVATE} -l ${from} ${SOCKET_PROXYD} ${to}) &`;
  }
  const from =
    'path' in listen
      ? `UNIX-LISTEN:${listen.path},fork,unlink-early,mode=600`
      : `TCP-LISTEN:${listen.port},bind=127.0.0.1,fork,reuseaddr`;
  const to = 'path' in target ? `UNIX-CONNECT:${target.path}` : `TCP:127.0.0.1:${target.port}`;
  return `socat ${from} ${to} &`;
}

/**
 * `[command, ...args]` that runs `browser` (executable + args) inside its own network and pid
 * namespaces with the two bridges up. `--die-with-parent`: the namespace goes with the agent.
 */
export function netnsCommand(netns: BrowserNetns, browser: string[]): string[] {
  const bridges = [
    bridge({ path: devtoolsSocket(netns) }, { port: SANDBOX_DEVTOOLS_PORT }),
    bridge({ port: SANDBOX_PROXY_PORT }, { path: egressSocket(netns) }),
    'exec "$@"',
  ].join(' ');
  return [
    'bwrap',
    '--unshare-net',
    '--unshare-pid',
    '--unshare-user',
    '--die-with-parent',
    '--dev-bind',
    '/',
    '/',
    '--proc',
    '/proc',
    ...netns.hide.flatMap((dir) => ['--tmpfs', dir]),
    '--',
    '/bin/sh',
    '-c',
    bridges,
    'ventus-browser',
    ...browser,
  ];
}
