/**
 * `ventus sessions create|list|get|release`: the public API from the shell, as any client uses it
 * (an API key from VENTUS_API_KEY, the service at VENTUS_URL or http://localhost:$PORT). A problem
 * document is printed as one line, "<status> <title>: <detail>", and exits 1.
 */
import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { TERMINAL_STATUSES } from '../core/domain/session-states.ts';
import { table } from './pools.output.ts';
import { cliDeps, print } from './cli-context.ts';

interface Session {
  id: string;
  status: string;
  region: string;
  created_at: string;
  expires_at: string;
  connect_url: string | null;
  error: string | null;
  labels?: Record<string, string>;
}

interface ApiOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
}

/** Thrown for an answer that is not 2xx: its problem document in one line. */
class ApiProblem extends Error {}

function target(opts: ApiOptions): { url: string; apiKey: string } {
  const apiKey = opts.apiKey ?? process.env.VENTUS_API_KEY;
  if (!apiKey)
    cliDeps.fail(
      'no API key: export VENTUS_API_KEY=$(ventus keys create --workspace <name>) or pass --api-key',
    );
  const url = (opts.url ?? process.env.VENTUS_URL ?? `http://localhost:${process.env.PORT ?? 8080}`).replace(
    /\/+$/,
    '',
  );
  return { url, apiKey };
}

async function call<T>(
  opts: ApiOptions,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<T> {
  const { url, apiKey } = target(opts);
  let res: Response;
  try {
    res = await fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (err) {
    const code = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ApiProblem(`cannot reach ${url} (${code}): start the service (npm start) or set VENTUS_URL`);
  }
  const text = await res.text();
  const doc = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  const field = (name: string) => (typeof doc[name] === 'string' ? doc[name] : '');
  if (!res.ok) {
    const retry = res.headers.get('retry-after');
    throw new ApiProblem(
      `${res.status} ${field('title') || res.statusText}: ${field('detail')}${retry ? ` (retry after ${retry} s)` : ''}`,
    );
  }
  return doc as T;
}

const sessionRow = (s: Session) => [s.id, s.status, s.region, s.created_at, s.expires_at];
const sessionsTable = (list: Session[]) =>
  table([['ID', 'STATUS', 'REGION', 'CREATED', 'EXPIRES'], ...list.map(sessionRow)], 5);

function sessionText(s: Session): string {
  const lines = [
    `${s.id}  ${s.status}  ${s.region}`,
    `  created  ${s.created_at}`,
    `  expires  ${s.expires_at}`,
    ...(s.connect_url ? [`  connect  ${s.connect_url}`] : []),
    ...(s.error ? [`  error    ${s.error}`] : []),
  ];
  return lines.join('\n');
}

function integer(flag: string) {
  return (raw: string) => {
    if (!/^\d+$/.test(raw))
      cliDeps.fail(`--${flag}=${JSON.stringify(raw)}: expected a whole number of seconds`);
    return Number(raw);
  };
}

function label(raw: string, previous: Record<string, string> = {}) {
  const at = raw.indexOf('=');
  if (at < 1) cliDeps.fail(`--label ${JSON.stringify(raw)}: expected key=value`);
  return { ...previous, [raw.slice(0, at)]: raw.slice(at + 1) };
}

function withApiOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the service (default $VENTUS_URL, else http://localhost:$PORT)')
    .option('--api-key <key>', 'an API key (default $VENTUS_API_KEY; the variable keeps it out of `ps`)')
    .option('--json', 'print the API answer as JSON');
}

/** Polls (0.5 s apart) until the session is RUNNING or ended. */
async function waitRunning(opts: ApiOptions, session: Session): Promise<Session> {
  let s = session;
  while (s.status !== 'RUNNING' && !(TERMINAL_STATUSES as readonly string[]).includes(s.status)) {
    await new Promise((r) => setTimeout(r, 500));
    s = await call<Session>(opts, 'GET', `/v1/sessions/${s.id}`);
  }
  return s;
}

async function run(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    if (err instanceof ApiProblem) {
      process.stderr.write(`${err.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

interface CreateOptions extends ApiOptions {
  keepAlive?: number;
  timeout?: number;
  label?: Record<string, string>;
  body?: string;
  wait?: boolean;
}

export function registerSessions(program: Command): Command {
  const sessions = program
    .command('sessions')
    .description('create, list, get and release sessions over the API');
  withApiOptions(sessions.command('create'))
    .description('create a session (prints it QUEUED, or RUNNING with --wait)')
    .option(
      '--keep-alive <seconds>',
      'seconds it survives without a CDP client (0: released at disconnect)',
      integer('keep-alive'),
    )
    .option('--timeout <seconds>', 'its whole lifetime, 60 to 86400 (default 1800)', integer('timeout'))
    .option('--label <key=value>', 'a label (repeatable)', label)
    .option('--body <json>', 'any create-session fields as JSON (see /docs); the flags above override it')
    .option('--wait', 'wait until it is RUNNING (or ended), polling every 0.5 s')
    .addHelpText(
      'after',
      `
Examples:
  export VENTUS_API_KEY=$(ventus keys create --workspace acme)
  ventus sessions create --wait
  ventus sessions create --keep-alive 60 --label team=qa --json
  ventus sessions create --body '{"viewport": {"width": 1280, "height": 800}}' --wait --json`,
    )
    .action((opts: CreateOptions) =>
      run(async () => {
        let body: Record<string, unknown> = {};
        if (opts.body !== undefined) {
          try {
            body = JSON.parse(opts.body) as Record<string, unknown>;
          } catch {
            cliDeps.fail('--body: expected a JSON object, e.g. \'{"keep_alive_seconds": 60}\'');
          }
        }
        if (opts.keepAlive !== undefined) body.keep_alive_seconds = opts.keepAlive;
        if (opts.timeout !== undefined) body.timeout_seconds = opts.timeout;
        if (opts.label) body.labels = { ...(body.labels as object), ...opts.label };
        let s = await call<Session>(opts, 'POST', '/v1/sessions', body, { 'idempotency-key': randomUUID() });
        if (opts.wait) s = await waitRunning(opts, s);
        print(opts.json, s, sessionText(s));
        if (opts.wait && s.status !== 'RUNNING') process.exitCode = 1;
      }),
    );
  withApiOptions(sessions.command('list'))
    .description("list the workspace's sessions, oldest first")
    .option('--status <A,B>', 'only these statuses, e.g. RUNNING,QUEUED')
    .option('--limit <n>', 'at most this many (1-100, default 20)')
    .addHelpText(
      'after',
      '\nExamples:\n  ventus sessions list\n  ventus sessions list --status RUNNING --json',
    )
    .action((opts: ApiOptions & { status?: string; limit?: string }) =>
      run(async () => {
        const query = new URLSearchParams({
          ...(opts.status && { status: opts.status }),
          ...(opts.limit && { limit: opts.limit }),
        });
        const page = await call<{ items: Session[] }>(
          opts,
          'GET',
          `/v1/sessions${query.size ? `?${query}` : ''}`,
        );
        print(opts.json, page, page.items.length === 0 ? 'no sessions' : sessionsTable(page.items));
      }),
    );
  withApiOptions(sessions.command('get'))
    .description('show one session')
    .argument('<id>', 'the session id')
    .addHelpText(
      'after',
      '\nExamples:\n  ventus sessions get 01JAXXXXXXXXXXXXXXXXXXXXXX\n  ventus sessions get 01JAXXXXXXXXXXXXXXXXXXXXXX --json',
    )
    .action((id: string, opts: ApiOptions) =>
      run(async () => {
        const s = await call<Session>(opts, 'GET', `/v1/sessions/${encodeURIComponent(id)}`);
        print(opts.json, s, sessionText(s));
      }),
    );
  withApiOptions(sessions.command('release'))
    .description('release a session: it becomes COMPLETED and its browser is destroyed')
    .argument('<id>', 'the session id')
    .addHelpText('after', '\nExample:\n  ventus sessions release 01JAXXXXXXXXXXXXXXXXXXXXXX')
    .action((id: string, opts: ApiOptions) =>
      run(async () => {
        const s = await call<Session>(opts, 'PATCH', `/v1/sessions/${encodeURIComponent(id)}`, {
          status: 'REQUEST_RELEASE',
        });
        print(opts.json, s, sessionText(s));
      }),
    );
  return sessions;
}
