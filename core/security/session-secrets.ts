/**
 * A session's inline secrets at rest: `storage_state` and the proxy password leave the create request
 * sealed (AES-256-GCM under the profile keys, bound to the session id) in `sessions.config.sealed`; the
 * clear part keeps only what the API shows (proxy url and username). The provision job opens them for
 * the pod, and the RUNNING (or any ending) transition drops them from the row
 * (core/db/session-transitions.repository.ts), so no secret outlives its use.
 */
import type { SessionConfig } from '../db/sessions.repository.ts';
import type { ProfileCipher } from './profile-cipher.ts';

type StorageState = NonNullable<SessionConfig['storage_state']>;

export interface SessionSecrets {
  storageState?: StorageState;
  proxyPassword?: string;
}

interface SealedFields {
  storage_state?: StorageState;
  proxy_password?: string;
}

/** The config to store: secrets moved into `sealed` (absent when there are none). */
export function sealSessionConfig(
  cipher: ProfileCipher,
  sessionId: string,
  config: SessionConfig,
): SessionConfig {
  const { storage_state: storageState, proxy, ...clear } = config;
  const secrets: SealedFields = {
    ...(storageState !== undefined && { storage_state: storageState }),
    ...(proxy?.password !== undefined && { proxy_password: proxy.password }),
  };
  const stored: SessionConfig = {
    ...clear,
    ...(proxy && {
      proxy: { url: proxy.url, ...(proxy.username !== undefined && { username: proxy.username }) },
    }),
  };
  if (Object.keys(secrets).length === 0) return stored;
  return { ...stored, sealed: cipher.sealSession(secrets, sessionId) };
}

/**
 * The secrets the pod needs. A config written before sealing shipped (plaintext fields) is read as
 * it is; a sealed one that was dropped (the session is RUNNING or ended) has none left.
 */
export function openSessionSecrets(
  cipher: ProfileCipher,
  session: { id: string; config: SessionConfig },
): SessionSecrets {
  const { sealed, storage_state: legacyState, proxy } = session.config;
  const opened = sealed ? cipher.openSession<SealedFields>(sealed, session.id) : {};
  const storageState = opened.storage_state ?? legacyState;
  const proxyPassword = opened.proxy_password ?? proxy?.password;
  return {
    ...(storageState !== undefined && { storageState }),
    ...(proxyPassword !== undefined && { proxyPassword }),
  };
}
