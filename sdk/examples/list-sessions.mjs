/**
 * Plain JavaScript (Node 20+): every RUNNING session of the workspace, page by page, and a typed
 * problem error.
 *   VENTUS_API_KEY=vs_… node list-sessions.mjs
 */
import { isProblem, VentusClient } from '@ventus/sessions';

const client = new VentusClient();
let count = 0;
for await (const s of client.listSessions({ status: 'RUNNING', limit: 50 })) {
  console.log(s.id, s.status, s.created_at, s.labels);
  count++;
}
console.log(`${count} running`);

try {
  await client.createSession({ region: 'mars-1' });
} catch (err) {
  if (!isProblem(err)) throw err;
  console.log(`${err.status} ${err.code}: ${err.problem.detail ?? err.problem.title}`);
}
