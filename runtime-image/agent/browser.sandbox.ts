/**
 * The browser's own network: on the local driver, Chromium (and everything it starts) runs in a
 * network namespace of its own (bubblewrap), where 127.0.0.1 is nobody's but its own. Its only ways
 * out are two unix-socket bridges in `bridgeDir`, both ends of which the agent controls:
 *   - egress: Chromium's proxy (127.0.0.1:3128 inside) -> `egress.sock` -> the agent's forwarding
 *     proxy, which checks every target after DNS resolution (forward-proxy.ts, egress-policy.ts);
 *   - DevTools: `devtools.sock` -> Chromium's DevTools on 127.0.0.1:9222 inside, for the agent alone.
 * Whatever a page or a CDP client does (a `direct://` proxy for a new context, WebRTC, a port scan),
 * no packet reaches the host's loopback, another pod, the control plane, or the network.
 * The namespace also gets its own pid space, and `hide` directories are emptied in its view (the
 * agent's own socket), so the browser sees neither the agent's process nor its door.
 */
import { join } from 'node:path';

/** Inside the browser's namespace: fixed, since nothing else lives there. */
export const SANDBOX_DEVTOOLS_PORT = 9222;
export const SANDBOX_PROXY_PORT = 3128;

export interface BrowserNetns {
  /** Where the bridge sockets live (visible to the agent and to the browser's namespace). */
  bridgeDir: string;
  /** Directories emptied (a tmpfs) in the browser's view. */
  hide: string[];
}

export const devtoolsSocket = (netns: BrowserNetns): string => join(netns.bridgeDir, 'devtools.sock');
export const egressSocket = (netns: BrowserNetns): string => join(netns.bridgeDir, 'egress.sock');

/**
 * `[command, ...args]` that runs `browser` (executable + args) inside its own network and pid
 * namespaces with the two bridges up. `--die-with-parent`: the namespace goes with the agent.
 */
export function netnsCommand(netns: BrowserNetns, browser: string[]): string[] {
  const bridges = [
    `socat UNIX-LISTEN:${devtoolsSocket(netns)},fork,unlink-early,mode=600 TCP:127.0.0.1:${SANDBOX_DEVTOOLS_PORT} &`,
    `socat TCP-LISTEN:${SANDBOX_PROXY_PORT},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:${egressSocket(netns)} &`,
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
