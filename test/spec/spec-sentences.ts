/**
 * The spec's own sentences (docs of ../shared/spec), quoted verbatim: each conformance test in this
 * folder is named by the sentence it proves, so a reader sees the contract next to the check.
 */
export const SPEC = {
  idempotentReplay:
    'Subsequent calls with the same K and any payload (within 24 h): returns the original session and 200 OK.',
  auditReplay: "State transitions are append-only; you can replay a session's history in the audit log.",
  pagination:
    'List endpoints use cursor pagination: … Response includes: { "items": [ … ], "next_cursor": "…", "has_more": true }',
  freeFormLabels: 'labels — free-form key/value strings, surfaced in audit dashboards.',
  problemDocuments: 'All errors are RFC-7807 problem documents',
  rdaRuntime:
    'runtime_kind — "chromium" (default) or "rda" (Windows RDA runtime; the storage_state field is rejected for rda).',
  openApiContract: 'That spec is the contract. If this page disagrees with the spec, the spec wins',
} as const;
