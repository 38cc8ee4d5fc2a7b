/** Writes a report as `<base>.json`, `<base>.md`, `<base>-latency.svg` and `<base>-percentiles.svg`. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { markdownSummary } from './markdown.ts';
import { latencyOverTime, percentilePlot } from './plots.ts';
import type { Report } from './report.ts';

export interface ReportFiles {
  json: string;
  markdown: string;
  latencySvg: string;
  percentilesSvg: string;
}

/** `<scenario>-<UTC timestamp>`, e.g. `create-20261122T101500Z`. */
export function timestampedBase(scenario: string, date: Date): string {
  const stamp = date
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${scenario}-${stamp}`;
}

/**
 * Markdown as Prettier would write it (the repository's format check covers committed results);
 * unchanged where Prettier is not installed (a production install runs `ventus load` too).
 */
export async function formatMarkdown(text: string): Promise<string> {
  try {
    const prettier = await import('prettier');
    const options = (await prettier.resolveConfig(path.resolve('README.md'))) ?? {};
    return await prettier.format(text, { ...options, parser: 'markdown' });
  } catch {
    return text;
  }
}

export async function writeReport(report: Report, outDir: string, base: string): Promise<ReportFiles> {
  await mkdir(outDir, { recursive: true });
  const files: ReportFiles = {
    json: path.join(outDir, `${base}.json`),
    markdown: path.join(outDir, `${base}.md`),
    latencySvg: path.join(outDir, `${base}-latency.svg`),
    percentilesSvg: path.join(outDir, `${base}-percentiles.svg`),
  };
  const plots = {
    latency: path.basename(files.latencySvg),
    percentiles: path.basename(files.percentilesSvg),
  };
  await Promise.all([
    writeFile(files.json, `${JSON.stringify({ ...report, files: plots })}\n`),
    writeFile(files.markdown, await formatMarkdown(`# Load test\n\n${markdownSummary(report, plots)}`)),
    writeFile(files.latencySvg, latencyOverTime(report)),
    writeFile(files.percentilesSvg, percentilePlot(report)),
  ]);
  return files;
}
