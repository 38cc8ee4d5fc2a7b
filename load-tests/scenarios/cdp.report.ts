/** The `cdp` report: Markdown tables, a round-trip percentile plot, and the files they go to. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describeMachine } from '../harness/environment.ts';
import { curve } from '../harness/plots.ts';
import { chart } from '../harness/svg.ts';
import { formatMarkdown } from '../harness/write-report.ts';
import type { CdpReport, MicroStats } from './cdp.scenario.ts';

export interface CdpFiles {
  json: string;
  markdown: string;
  percentilesSvg: string;
}

const us = (v: number | null | undefined) => (v === null || v === undefined ? '–' : `${v.toFixed(1)} µs`);
const signedUs = (v: number | null) => (v === null ? '–' : `${v >= 0 ? '+' : ''}${v.toFixed(1)} µs`);
const verdict = (met: boolean | null) => (met === null ? 'not measured' : met ? '**met**' : '**not met**');

function rttRow(label: string, s: MicroStats | null): string {
  if (!s) return `| ${label} | – | – | – | – | – | – |`;
  return `| ${label} | ${s.n} | ${us(s.p50)} | ${us(s.p90)} | ${us(s.p99)} | ${us(s.max)} | ${us(s.mean)} |`;
}

export function cdpMarkdown(report: CdpReport, svgName: string, heading = '##'): string {
  const { roundTripUs: rtt, throughput: tp, targets, environment: env } = report;
  const tpRow = (label: string, t: CdpReport['throughput']['proxy'] | null) =>
    t
      ? `| ${label} | ${t.frames} | ${(t.bytes / 1e6).toFixed(1)} MB | ${t.seconds.toFixed(2)} s | ${t.mbPerSecond.toFixed(1)} MB/s | ${t.p50Ms.toFixed(1)} ms |`
      : `| ${label} | – | – | – | – | – |`;
  const ratio = (v: number | null) => (v === null ? '–' : v.toFixed(3));
  const lines = [
    `${heading} \`cdp\`: ${report.config.roundTrips} round trips and ${report.config.screenshots} screenshots per side`,
    '',
    report.description,
    '',
    `- target: ${env.target} (session \`${report.sessionId}\`)`,
    `- driver: **${env.driver.name}**`,
    `- load generator: ${describeMachine(env.machine)}`,
    `- date: ${env.date}`,
    `- same browser on both sockets: ${report.sameBrowser === null ? 'no direct socket' : report.sameBrowser ? 'yes (checked by target id)' : 'NO'}`,
    '',
    `Round trip, \`Browser.getVersion\`, one at a time, ${report.config.rounds} interleaved rounds:`,
    '',
    '| path | n | p50 | p90 | p99 | max | mean |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    rttRow('proxy', rtt.proxy),
    rttRow('direct', rtt.direct),
    '',
    `Added by the proxy: p50 ${signedUs(rtt.addedP50)}, p99 ${signedUs(rtt.addedP99)}; ratio at p50 ${ratio(rtt.ratioP50)}.`,
    '',
    'Throughput, `Page.captureScreenshot` (PNG), alternating proxy/direct shot by shot:',
    '',
    '| path | frames | received | waiting | throughput | p50 per shot |',
    '| --- | --- | --- | --- | --- | --- |',
    tpRow('proxy', tp.proxy),
    tpRow('direct', tp.direct),
    '',
    `Throughput ratio proxy/direct: ${ratio(tp.ratio)}.`,
    '',
    '| target | limit | measured | verdict |',
    '| --- | --- | --- | --- |',
    `| added p50 round trip | <= ${targets.addedP50.limitUs} µs | ${signedUs(rtt.addedP50)} | ${verdict(targets.addedP50.met)} |`,
    `| throughput ratio | >= ${targets.throughputRatio.limit} | ${ratio(tp.ratio)} | ${verdict(targets.throughputRatio.met)} |`,
    '',
  ];
  for (const note of report.notes) lines.push(`> ${note}`, '');
  lines.push(`![round-trip percentiles](${svgName})`, '');
  return lines.join('\n');
}

/** `curve` puts the max at the axis end; keep the points up to the first that reaches p99. */
function untilP99(points: Array<[number, number]>): Array<[number, number]> {
  const end = points.findIndex(([x]) => x >= 2 - 1e-9);
  return end === -1 ? points : points.slice(0, end + 1);
}

/** Round trip by percentile, proxy and direct on one log-odds axis. */
export function cdpPercentileSvg(report: CdpReport): string {
  const groups: Array<[string, number[], string]> = [['proxy', report.samples.roundTripUs.proxy, '#1f77b4']];
  if (report.samples.roundTripUs.direct.length > 0) {
    groups.push(['direct', report.samples.roundTripUs.direct, '#ff7f0e']);
  }
  // Up to p99 only: a few slow outliers (GC, a busy core) would flatten the body of the curve,
  // where the proxy's cost shows; max is in the table.
  const decades = 2;
  const xTicks: Array<[number, string]> = [
    [0, '0%'],
    [1, '90%'],
    [2, '99%'],
  ];
  xTicks.splice(1, 0, [Math.log10(2), '50%']);
  return chart({
    title: `cdp: Browser.getVersion round trip by percentile, up to p99 (${report.environment.driver.name} driver)`,
    xLabel: 'percentile',
    yLabel: 'round trip (µs)',
    xTicks,
    series: groups.map(([label, values, color]) => ({
      label: `${label} (n=${values.length})`,
      color,
      kind: 'line' as const,
      points: untilP99(curve(values, decades)),
    })),
  });
}

export async function writeCdpReport(report: CdpReport, outDir: string, base: string): Promise<CdpFiles> {
  await mkdir(outDir, { recursive: true });
  const files: CdpFiles = {
    json: path.join(outDir, `${base}.json`),
    markdown: path.join(outDir, `${base}.md`),
    percentilesSvg: path.join(outDir, `${base}-percentiles.svg`),
  };
  const svgName = path.basename(files.percentilesSvg);
  await Promise.all([
    writeFile(files.json, `${JSON.stringify({ ...report, files: { percentiles: svgName } })}\n`),
    writeFile(files.markdown, await formatMarkdown(`# Load test\n\n${cdpMarkdown(report, svgName)}`)),
    writeFile(files.percentilesSvg, cdpPercentileSvg(report)),
  ]);
  return files;
}
