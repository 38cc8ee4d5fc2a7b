/**
 * Named request-body examples per operation: what the API reference offers in its example menu
 * and pre-fills "Try it out" with. Each one is a body the service accepts as it is
 * (test/contract/generated-client.test.ts sends every one).
 */
import { CREATE_SESSION_EXAMPLES } from '../../core/domain/session.schema.ts';

interface Example {
  summary: string;
  value: unknown;
}

const REQUEST_EXAMPLES: Record<string, Record<string, Example>> = {
  createSession: CREATE_SESSION_EXAMPLES,
};

interface Operation {
  operationId?: string;
  requestBody?: { content?: Record<string, { examples?: Record<string, Example> }> };
}

/** Replaces the generated `example1, example2…` of each listed operation's JSON body with named ones. */
export function addRequestExamples(paths: Record<string, Record<string, Operation>>): void {
  for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) {
    const examples = operation.operationId && REQUEST_EXAMPLES[operation.operationId];
    const media = operation.requestBody?.content?.['application/json'];
    if (examples && media) media.examples = examples;
  }
}
