/**
 * The failures a newcomer meets, each as one line that says what to do (no stack trace): a missing
 * or unreachable database, a refused login, a port in use. Undefined for anything else.
 */
import type { Config } from '../core/config/config.ts';

interface SystemError {
  code?: string;
  errno?: number;
  syscall?: string;
  address?: string;
  port?: number;
  message?: string;
}

function databaseTarget(
  config: Config | undefined,
): { host: string; port: string; user: string; name: string } | undefined {
  if (!config?.databaseUrl) return undefined;
  const u = new URL(config.databaseUrl);
  return {
    host: u.hostname || 'localhost',
    port: u.port || '5432',
    user: decodeURIComponent(u.username) || 'postgres',
    name: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
  };
}

export function explain(err: unknown, config: Config | undefined): string | undefined {
  const e = (err ?? {}) as SystemError;
  // AggregateError (Node's happy-eyeballs connect) carries the codes on its members.
  const inner = (err as { errors?: SystemError[] } | undefined)?.errors?.[0];
  const code = e.code ?? inner?.code;
  const db = databaseTarget(config);
  if (e.syscall === 'listen' && code === 'EADDRINUSE')
    return `port ${e.port ?? config?.port} is in use: set PORT (e.g. PORT=${(e.port ?? 8080) + 1} npm start) or stop what listens there`;
  if (e.syscall === 'listen' && code === 'EACCES')
    return `port ${e.port ?? config?.port} needs privileges: set PORT to 1024 or above`;
  if (db) {
    if (code === '3D000')
      return `database ${db.name} does not exist: createdb -h ${db.host} -p ${db.port} -U ${db.user} ${db.name} (or point DATABASE_URL at one that does)`;
    if (code === '28P01' || code === '28000')
      return `Postgres at ${db.host}:${db.port} refused user ${db.user}: fix the user or password in DATABASE_URL`;
    const port = e.port ?? inner?.port;
    if (
      (code === 'ECONNREFUSED' || code === 'ETIMEDOUT' || code === 'EHOSTUNREACH') &&
      String(port ?? db.port) === db.port
    )
      return `cannot reach Postgres at ${db.host}:${db.port} (${code}): start it, fix DATABASE_URL, or unset DATABASE_URL to use the embedded one`;
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
      return `cannot resolve ${db.host}, the host in DATABASE_URL: fix DATABASE_URL`;
  }
  return undefined;
}
