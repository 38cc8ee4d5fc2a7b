/**
 * The results table: every attempt (attack, vector, target, outcome, and whether the outcome is the
 * safe one). A test file prints its table when it ends, so a run produces it whether its assertions
 * pass or not; with VENTUS_ATTACK_TABLE_DIR set, each file also writes it there as `<file>.md`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface AttackRow {
  attack: string;
  vector: string;
  target: string;
  outcome: string;
  /**
   * The attempt failed to achieve its effect (what the test asserts); undefined when the attempt's
   * effect is judged on another row (e.g. a no-cors POST whose answer the page cannot see).
   */
  safe: boolean | undefined;
}

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\s+/g, ' ').slice(0, 240);

export class AttackTable {
  readonly rows: AttackRow[] = [];

  constructor(private readonly name: string) {}

  add(row: AttackRow): AttackRow {
    this.rows.push(row);
    return row;
  }

  /** Rows of `attack` whose outcome is not the safe one, as lines for an assertion message. */
  unsafe(attack: string): string[] {
    return this.rows
      .filter((r) => r.attack === attack && r.safe === false)
      .map((r) => `${r.vector} → ${r.target}: ${r.outcome}`);
  }

  /** How many attempts of `attack` were made (a test that made none proves nothing). */
  count(attack: string): number {
    return this.rows.filter((r) => r.attack === attack).length;
  }

  markdown(): string {
    const lines = [
      `### ${this.name}`,
      '',
      '| attack | vector | target | outcome | safe |',
      '| --- | --- | --- | --- | --- |',
      ...this.rows.map(
        (r) =>
          `| ${cell(r.attack)} | ${cell(r.vector)} | ${cell(r.target)} | ${cell(r.outcome)} | ${r.safe === undefined ? '(see below)' : r.safe ? 'yes' : '**NO**'} |`,
      ),
    ];
    return lines.join('\n') + '\n';
  }

  print(): void {
    const text = this.markdown();
    process.stdout.write(`\n${text}\n`);
    const dir = process.env.VENTUS_ATTACK_TABLE_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(path.join(dir, `${this.name}.md`), text);
    }
  }
}

/** Short text for the table from anything a page or CDP call read. */
export function excerpt(value: unknown, max = 120): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  return (s ?? '').replace(/\s+/g, ' ').slice(0, max);
}
