/**
 * Session recordings: `GET /v1/sessions/{id}/recording` hands out a signed, expiring `recording_url`;
 * `GET /recordings/{id}?token=…` (outside /v1: the URL itself is the credential, no API key) streams
 * the WebM from the artifact store. The token rides in the query string, which the logger scrubs
 * (`token=`), so the URL never reaches a log line.
 */
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import parseRange from 'range-parser';
import { ProblemError } from '../../core/domain/problems.ts';
import { isTerminal } from '../../core/domain/session-states.ts';
import { getRecording } from '../../core/db/recordings.repository.ts';
import type { ArtifactStore } from '../../core/artifacts/artifact-store.ts';
import { createArtifactStore } from '../../core/artifacts/local-artifact.store.ts';
import { requireScope } from '../auth.ts';
import { HEADERS, jsonResponse, routeSchema } from '../openapi/route-schema.ts';
import { SessionIdParams } from './session.docs.ts';
import { sessionFinder, type SessionFinderDeps } from './session-finder.ts';

const RecordingLink = Type.Object(
  {
    recording_url: Type.String({
      description:
        'Signed download URL (no API key needed); stops working at `expires_at`. Treat it as a secret.',
    }),
    expires_at: Type.String({ format: 'date-time' }),
    size_bytes: Type.Integer({ minimum: 0 }),
    duration_seconds: Type.Number({ minimum: 0 }),
    content_type: Type.String({ examples: ['video/webm'] }),
    created_at: Type.String({ format: 'date-time' }),
    delete_after: Type.String({
      format: 'date-time',
      description: "When the recording is deleted under the workspace's `recording_retention_days`.",
    }),
  },
  { additionalProperties: false },
);

const DownloadQuery = Type.Object({
  token: Type.String({ minLength: 1, maxLength: 4096, description: 'The signature of a `recording_url`.' }),
});

const TAGS = ['recordings'];

/** Postgres for the recording rows, the signing keys and public URL for its signed download link. */
export type RecordingsRoutesDeps = SessionFinderDeps;

export function recordingsRoutes(
  services: RecordingsRoutesDeps,
  store: ArtifactStore = createArtifactStore(services.config),
) {
  return async function register(app: FastifyInstance): Promise<void> {
    const api = app.withTypeProvider<TypeBoxTypeProvider>();
    const { findOwn } = sessionFinder(services);

    api.get(
      '/v1/sessions/:id/recording',
      {
        schema: routeSchema({
          operationId: 'getSessionRecording',
          summary: "A session's recording (signed URL)",
          description:
            'For a session created with `recording: {enabled: true}`: a signed `recording_url` to download ' +
            'its WebM, valid for a few minutes (call again for a fresh one). 409 while the session is live ' +
            'or its recording is still being saved; 404 when it was not recorded, nothing could be saved, ' +
            "or the recording was deleted after the workspace's retention.",
          tags: TAGS,
          scope: 'sessions:read',
          params: SessionIdParams,
          responses: { 200: jsonResponse('The signed URL and what it points to.', RecordingLink) },
          problems: ['forbidden', 'not-found', 'state-conflict'],
        }),
      },
      async (request) => {
        const principal = requireScope(request, 'sessions:read');
        const session = await findOwn(principal.workspaceId, request.params.id);
        const notFound = (detail: string) => new ProblemError('not-found', { detail });
        if (!session.config.recording?.enabled)
          throw notFound(
            `Session ${session.id} was not recorded (create it with recording: {enabled: true})`,
          );
        if (!isTerminal(session.status))
          throw new ProblemError('state-conflict', {
            detail: `Session ${session.id} is ${session.status}; its recording is available once it ended`,
          });
        const rec = await getRecording(services.db, session.id);
        if (!rec)
          throw new ProblemError('state-conflict', {
            detail: `The recording of session ${session.id} is still being saved; retry in a few seconds`,
          });
        if (rec.status === 'failed')
          throw notFound(`No recording of session ${session.id} was saved: ${rec.error}`);
        if (rec.deletedAt || !rec.storageKey || rec.sizeBytes === null)
          throw notFound(
            `The recording of session ${session.id} was deleted on ${rec.deletedAt?.toISOString()} (retention)`,
          );
        const expiresAt = new Date(Date.now() + services.config.recordingUrlTtlSeconds * 1000);
        const token = await services.tokens.recordingToken(session.workspaceId, session.id, expiresAt);
        return {
          recording_url: `${services.config.publicUrl}/recordings/${session.id}?token=${token}`,
          expires_at: expiresAt.toISOString(),
          size_bytes: rec.sizeBytes,
          duration_seconds: rec.durationSeconds ?? 0,
          content_type: rec.contentType,
          created_at: rec.createdAt.toISOString(),
          delete_after: rec.deleteAfter.toISOString(),
        };
      },
    );

    api.get(
      '/recordings/:id',
      {
        schema: routeSchema({
          operationId: 'downloadRecording',
          summary: 'Download a recording (signed URL)',
          description:
            'The target of a `recording_url`: the signature in `token` is the credential, so no API key is ' +
            'sent. 401 once the URL expired or when it was altered; 404 once the recording was deleted. ' +
            'A single byte `Range` (a player seeking) is answered 206 with `Content-Range`; a range ' +
            'past the end is 416.',
          tags: TAGS,
          authenticated: false,
          params: SessionIdParams,
          querystring: DownloadQuery,
          responses: {
            200: {
              description: 'The recording.',
              headers: {
                'X-Request-Id': { ...HEADERS.requestId.schema, description: HEADERS.requestId.description },
              },
              content: { 'video/webm': { schema: Type.String({ format: 'binary' }) } },
            },
            206: {
              description: 'The bytes of the one range asked for (`Range: bytes=<start>-<end>`).',
              headers: {
                'Content-Range': {
                  schema: Type.String({ examples: ['bytes 0-1023/52340'] }),
                  description: 'Which bytes this is, of how many.',
                },
              },
              content: { 'video/webm': { schema: Type.String({ format: 'binary' }) } },
            },
          },
          problems: ['unauthorized', 'not-found', 'range-not-satisfiable'],
        }),
      },
      async (request, reply) => {
        const claims = await services.tokens.verify(request.query.token, 'recording').catch(() => undefined);
        if (!claims || claims.sessionId !== request.params.id)
          throw new ProblemError('unauthorized', {
            detail:
              'The recording URL is invalid or has expired; get a new one from GET /v1/sessions/{id}/recording',
          });
        const rec = await getRecording(services.db, claims.sessionId);
        const gone = new ProblemError('not-found', { detail: 'This recording does not exist (any more)' });
        if (!rec || rec.workspaceId !== claims.workspaceId || rec.deletedAt || !rec.storageKey) throw gone;
        const size = await store.size(rec.storageKey);
        if (size === undefined) throw gone;
        // One byte range (a player seeking) is answered 206; a malformed or multi-range header gets
        // the whole file, as RFC 9110 allows; a range past the end is 416.
        const ranges = request.headers.range ? parseRange(size, request.headers.range) : undefined;
        if (ranges === -1) {
          reply.header('content-range', `bytes */${size}`);
          throw new ProblemError('range-not-satisfiable', {
            detail: `The recording has ${size} bytes; ask for a range within them`,
          });
        }
        const range =
          Array.isArray(ranges) && ranges.type === 'bytes' && ranges.length === 1 ? ranges[0] : undefined;
        const artifact = await store.get(rec.storageKey, range);
        if (!artifact) throw gone;
        if (range) reply.code(206).header('content-range', `bytes ${range.start}-${range.end}/${size}`);
        return reply
          .type(artifact.contentType)
          .header('content-length', range ? range.end - range.start + 1 : size)
          .header('accept-ranges', 'bytes')
          .header('content-disposition', `attachment; filename="${rec.sessionId}.webm"`)
          .header('cache-control', 'private, no-store')
          .header('referrer-policy', 'no-referrer')
          .send(artifact.body);
      },
    );
  };
}
