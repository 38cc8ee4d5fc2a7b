/**
 * Thrown by a job's operation when retrying cannot help (bad payload, a session in a state it cannot
 * act on): the workers fail the job at once instead of retrying it.
 */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}
