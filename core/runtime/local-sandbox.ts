/**
 * The local driver's sandbox: how one pod (its agent, Xvfb, Chromium) is shut off from the host.
 *
 * bubblewrap (Debian's `bubblewrap`, installed by scripts/setup.sh) starts the agent in new user,
 * mount, pid, ipc and uts namespaces. Its filesystem is a skeleton: /usr and a few files of /etc
 * (fonts, certificates, resolver; never shadow), read-only; a private /tmp and /var, with the
 * system's font cache (/var/cache/fontconfig) read-only in it, so no pod rebuilds that cache at every
 * start; the agent bundle and the kernel relay's program, read-only; and the pod's own directory as /pod, the only place it can
 * write. The service's data (`.ventus/`, the embedded Postgres, other pods) and the rest of the host
 * do not exist in its view.
 * The agent then runs Chromium in a network namespace of its own (runtime-image/agent/
 * browser.sandbox.ts) whose only ways out are the agent's egress check and DevTools bridge; Chromium
 * keeps its own sandbox (namespaces + seccomp) on inside all of this.
 *
 * The user: as root, every pod runs as a uid of its own (from a range no account uses), so pods
 * cannot touch each other's files even outside their views; as an ordinary user (a laptop), the pod
 * runs as that user inside its own user namespace (bubblewrap cannot switch uids without privilege),
 * where the mount namespace is what keeps the user's files out of reach.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readlinkSync,
  realpathSync,
  renameSync,
} from 'node:fs';
import path from 'node:path';

/** Where the sandbox puts things, inside its view. */
export const IN_POD = {
  root: '/pod',
  agent: '/opt/ventus/agent.mjs',
  kernelRelay: '/opt/ventus/kernel-relay',
  node: '/opt/ventus/node',
  socket: '/pod/run/agent.sock',
  bridgeDir: '/pod/bridge',
  userData: '/pod/user-data',
  scratch: '/pod/scratch',
} as const;

/** Pod uids as root: 2,000,000,000 + a hash of the pod id (beyond any account or subuid range). */
const POD_UID_BASE = 2_000_000_000;
const POD_UID_SPAN = 100_000_000;

/** Read-only files and directories of /etc a browser needs; shadow, ssh, sudoers and the like stay out. */
const ETC = [
  'fonts',
  'ld.so.cache',
  'ssl',
  'ca-certificates',
  'resolv.conf',
  'hosts',
  'nsswitch.conf',
  'localtime',
  'passwd',
  'group',
  'chromium',
  'chromium.d',
  'alternatives',
  'X11',
  'machine-id',
];

export interface PodSandbox {
  /** The pod's directory on the host (its /pod). */
  root: string;
  /** The uid and gid it runs as (undefined: this process's). */
  uid: number | undefined;
  /** `[nice, -n, N, bwrap, ...args]` that start the agent. */
  command: string[];
  /** The agent's socket on the host. */
  socket: string;
}

export interface SandboxOptions {
  /** Per-pod directories live under here when the service is root (must be traversable by pod uids). */
  rootBase: string;
  /** The agent bundle on the host (checked by node-bundle.ts). */
  bundle: string;
  /** The kernel relay's program on the host (checked by kernel-relay.program.ts), if there is one. */
  kernelRelay?: string;
  /** The niceness every process of the pod starts with (VENTUS_POD_NICENESS); default 10. */
  niceness?: number;
}

/**
 * Pods run at niceness 10 by default, below the service (0): on one machine a pod starting for the
 * pool, or a tenant's page spinning the CPU, must not take the CPU from the control plane that every
 * tenant's create, claim and release need (load-tests/noisy-neighbour.ts). Every process of the pod
 * inherits it, and none can lower it again: that needs CAP_SYS_NICE on the host, which no pod has.
 */
export const DEFAULT_POD_NICENESS = 10;

const isRoot = (): boolean => process.getuid?.() === 0;

export function podUidOf(podId: string): number {
  const n = createHash('sha256').update(podId).digest().readUInt32BE(0);
  return POD_UID_BASE + (n % POD_UID_SPAN);
}

/** The pod's root directory on the host: inside its pod directory, or (as root) under `rootBase`. */
export function podRootOf(podDir: string, podId: string, rootBase: string): string {
  return isRoot() ? path.join(rootBase, podId) : path.join(podDir, 'root');
}

function skeleton(): string[] {
  const args = ['--ro-bind', '/usr', '/usr'];
  for (const dir of ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32']) {
    let st;
    try {
      st = lstatSync(dir);
    } catch {
      continue;
    }
    // /bin -> usr/bin: the same relative link, pointing into the bound /usr.
    if (st.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  for (const name of ETC) args.push(...etcEntry(`/etc/${name}`));
  return args;
}

/**
 * How the pod sees one host /etc entry: bound read-only, or, when the host's is a symlink into /usr
 * (bound above), the same symlink. Binding follows the link and leaves a plain file, and that costs
 * time: ICU names the time zone from /etc/localtime's link target; given a plain file, it searches
 * /usr/share/zoneinfo for one with the same bytes, 5 to 8 ms at the first Date of every Node process in
 * the pod (the agent's first HTTP answer, which is the claim's), 25 ms with no /etc/localtime at all.
 */
function etcEntry(entry: string): string[] {
  let link: string;
  let target: string;
  try {
    link = readlinkSync(entry);
    target = realpathSync(entry);
  } catch {
    return ['--ro-bind-try', entry, entry]; // not a symlink, a dangling one, or absent
  }
  if (!target.startsWith('/usr/')) return ['--ro-bind-try', entry, entry];
  // The host's own link when it points into /usr itself (ICU reads the zone's name from it), else
  // where it ends up: a link through a path the pod does not have would dangle there.
  return ['--symlink', path.resolve(path.dirname(entry), link).startsWith('/usr/') ? link : target, entry];
}

/**
 * Prepares the pod's root directory (0700, owned by the pod's uid) and returns how to start the
 * agent in its sandbox with `env` as its whole environment.
 */
export function preparePodSandbox(
  podDir: string,
  podId: string,
  options: SandboxOptions,
  env: Record<string, string>,
): PodSandbox {
  const root = podRootOf(podDir, podId, options.rootBase);
  const uid = isRoot() ? podUidOf(podId) : undefined;
  let bundle = options.bundle;
  let kernelRelay = options.kernelRelay;
  if (uid !== undefined) {
    // A pod uid must traverse every directory above what bubblewrap binds: the base is root's, 0711.
    mkdirSync(options.rootBase, { recursive: true, mode: 0o711 });
    chmodSync(options.rootBase, 0o711);
    bundle = shareWithPods(options.bundle, options.rootBase, 0o644);
    if (kernelRelay) kernelRelay = shareWithPods(kernelRelay, options.rootBase, 0o755);
  }
  mkdirSync(root, { recursive: true, mode: 0o700 });
  chmodSync(root, 0o700);
  if (uid !== undefined) chownSync(root, uid, uid);
  const node = process.execPath.startsWith('/usr/') ? [] : ['--ro-bind', process.execPath, IN_POD.node];
  const nodeInPod = node.length > 0 ? IN_POD.node : process.execPath;
  const niceness = options.niceness ?? DEFAULT_POD_NICENESS;
  const command = [
    // nice execs bubblewrap in its own process: the pid the driver records is still bubblewrap's.
    ...(niceness > 0 ? ['nice', '-n', String(niceness)] : []),
    'bwrap',
    '--unshare-user',
    '--unshare-pid',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    // No --new-session: the pod stays in bubblewrap's process group (the driver spawns it detached,
    // with no terminal), so a signal to that group reaches every process of the pod.
    ...skeleton(),
    '--proc',
    '/proc',
    '--dev',
    '/dev',
    '--tmpfs',
    '/tmp',
    '--tmpfs',
    '/var',
    // Fontconfig's cache of /usr's fonts: without it every browser process of every pod scans the
    // fonts again (about 20 ms and 0.03 CPU-seconds per pod start, load-tests/pod-start.ts).
    '--ro-bind-try',
    '/var/cache/fontconfig',
    '/var/cache/fontconfig',
    '--bind',
    root,
    IN_POD.root,
    '--ro-bind',
    bundle,
    IN_POD.agent,
    ...(kernelRelay ? ['--ro-bind', kernelRelay, IN_POD.kernelRelay] : []),
    ...node,
    '--chdir',
    IN_POD.root,
    '--clearenv',
    ...Object.entries(env).flatMap(([k, v]) => ['--setenv', k, v]),
    '--',
    nodeInPod,
    IN_POD.agent,
  ];
  return { root, uid, command, socket: path.join(root, 'run', 'agent.sock') };
}

/**
 * As root the agent's bundle and the kernel relay are copied where pod uids can read them: root's,
 * `mode` (never writable but by root), in the 0711 base.
 */
function shareWithPods(file: string, rootBase: string, mode: number): string {
  const shared = path.join(rootBase, path.basename(file));
  if (!existsSync(shared)) {
    const tmp = `${shared}.${process.pid}.tmp`;
    copyFileSync(file, tmp);
    chmodSync(tmp, mode);
    renameSync(tmp, shared);
  }
  return shared;
}

/** A one-line reason the sandbox cannot run here, or undefined when bubblewrap is usable. */
export function sandboxUnavailable(): string | undefined {
  const found = (process.env.PATH ?? '/usr/bin:/bin')
    .split(path.delimiter)
    .some((dir) => existsSync(path.join(dir, 'bwrap')));
  if (!found)
    return 'bubblewrap (bwrap) is not installed: local pods run in its sandbox. Install it with `apt-get install bubblewrap` (scripts/setup.sh does)';
  return undefined;
}
