/**
 * signing-key-sweep: deletes retired JWT signing keys once nothing they signed can be in use
 * (core/security/signing-key-sweep.ts); each deletion is audited (class system, `signing_key.deleted`).
 */
import { sweepSigningKeys } from '../core/security/signing-key-sweep.ts';
import type { Services } from '../core/services.ts';
import type { JobContext } from './processor.ts';

export type SigningKeySweepDeps = Pick<Services, 'config' | 'db' | 'tokens'>;

export function signingKeySweepProcessor(services: SigningKeySweepDeps) {
  return async ({ log }: JobContext<'signing-key-sweep'>): Promise<void> => {
    const deleted = await sweepSigningKeys({
      db: services.db,
      keys: services.tokens.keys,
      recordingUrlTtlSeconds: services.config.recordingUrlTtlSeconds,
    });
    if (deleted.length > 0) log.info({ kids: deleted }, 'spent signing keys deleted');
  };
}
