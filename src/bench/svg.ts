// timeline.svg, written by hand: writes/s (top panel) and p99 latency (bottom
// panel) per second, sharing the time axis, with kills, restarts and leader
// elections marked as vertical lines across both panels.

import type { BenchEvent } from './faults.js';
import type { SecondStats } from './stats.js';

const WIDTH = 900;
const PANEL_HEIGHT = 170;
const MARGIN = { left: 70, right: 24, top: 64, gap: 46, bottom: 46 };
const PLOT_WIDTH = WIDTH - MARGIN.left - MARGIN.right;
const HEIGHT = MARGIN.top + 2 * PANEL_HEIGHT + MARGIN.gap + MARGIN.bottom;

const COLORS = { throughput: '#2563eb', p99: '#ea580c', kill: '#dc2626', restart: '#16a34a', elected: '#6b7280', grid: '#e5e7eb', axis: '#374151' };

export interface TimelineInput {
  readonly title: string;
  readonly seconds: readonly SecondStats[];
  readonly events: readonly BenchEvent[];
  readonly durationMs: number;
  /** Spans without writes after a kill (kill → first write after it), shaded. */
  readonly outages?: readonly { readonly fromMs: number; readonly toMs: number }[];
}

/** 1, 2 or 5 times a power of ten, so that about `count` steps cover max. */
export function niceStep(max: number, count = 5): number {
  if (!(max > 0)) return 1;
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit <= 1 ? 1 : unit <= 2 ? 2 : unit <= 5 ? 5 : 10) * power;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

function fmt(n: number): string {
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1).replace(/\.0$/, '')}k`;
  return Number.isInteger(n) ? String(n) : n.toFixed(1);
}

interface Panel {
  readonly top: number;
  readonly label: string;
  readonly color: string;
  /** Value per second, null where there is none (no operation completed). */
  readonly values: readonly (number | null)[];
  readonly area: boolean;
}

export function timelineSvg(input: TimelineInput): string {
  const seconds = Math.max(1, input.durationMs / 1000);
  const x = (s: number): number => MARGIN.left + (s / seconds) * PLOT_WIDTH;
  const panels: Panel[] = [
    { top: MARGIN.top, label: 'writes/s', color: COLORS.throughput, values: input.seconds.map((r) => r.writes), area: true },
    { top: MARGIN.top + PANEL_HEIGHT + MARGIN.gap, label: 'p99 latency (ms)', color: COLORS.p99, values: input.seconds.map((r) => r.p99Ms), area: false },
  ];
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold" fill="${COLORS.axis}">${escapeXml(input.title)}</text>`,
    legend(),
  ];
  parts.push(outageBands(input.outages ?? [], x));
  for (const panel of panels) parts.push(drawPanel(panel, seconds, x));
  parts.push(timeAxis(seconds, x, panels[1]!.top + PANEL_HEIGHT));
  parts.push(eventMarks(input.events, x));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function legend(): string {
  const items: [string, string, string][] = [
    ['writes/s', COLORS.throughput, ''],
    ['p99 latency', COLORS.p99, ''],
    ['kill', COLORS.kill, '6 3'],
    ['restart', COLORS.restart, '6 3'],
    ['new leader', COLORS.elected, '2 3'],
    ['no writes', COLORS.kill, 'band'],
  ];
  let cursor = MARGIN.left;
  const y = 42;
  const out: string[] = [];
  for (const [label, color, dash] of items) {
    const dashAttr = dash === '' ? '' : ` stroke-dasharray="${dash}"`;
    if (dash === 'band') out.push(`<rect x="${cursor}" y="${y - 10}" width="22" height="12" fill="${color}" fill-opacity="0.12"/>`);
    else out.push(`<line x1="${cursor}" y1="${y - 4}" x2="${cursor + 22}" y2="${y - 4}" stroke="${color}" stroke-width="2.5"${dashAttr}/>`);
    out.push(`<text x="${cursor + 28}" y="${y}" fill="${COLORS.axis}">${label}</text>`);
    cursor += 38 + label.length * 7;
  }
  return `<g class="legend">${out.join('')}</g>`;
}

function drawPanel(panel: Panel, seconds: number, x: (s: number) => number): string {
  const present = panel.values.filter((v): v is number => v !== null);
  const step = niceStep(Math.max(1, ...present));
  const top = Math.max(step, Math.ceil(Math.max(1, ...present) / step) * step);
  const y = (v: number): number => panel.top + PANEL_HEIGHT - (v / top) * PANEL_HEIGHT;
  const out: string[] = [`<g class="panel">`];
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${MARGIN.left}" y1="${y(v).toFixed(1)}" x2="${MARGIN.left + PLOT_WIDTH}" y2="${y(v).toFixed(1)}" stroke="${COLORS.grid}"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="${COLORS.axis}">${fmt(v)}</text>`);
  }
  const cy = panel.top + PANEL_HEIGHT / 2;
  out.push(`<text transform="translate(18 ${cy}) rotate(-90)" text-anchor="middle" fill="${COLORS.axis}">${escapeXml(panel.label)}</text>`);
  out.push(`<rect x="${MARGIN.left}" y="${panel.top}" width="${PLOT_WIDTH}" height="${PANEL_HEIGHT}" fill="none" stroke="${COLORS.axis}" stroke-width="0.8"/>`);
  // Each value belongs to the middle of its second; a second without a value breaks the line.
  const segments: string[][] = [[]];
  panel.values.forEach((v, s) => {
    if (v === null) {
      if (segments[segments.length - 1]!.length > 0) segments.push([]);
      return;
    }
    segments[segments.length - 1]!.push(`${x(Math.min(seconds, s + 0.5)).toFixed(1)},${y(v).toFixed(1)}`);
  });
  for (const points of segments.filter((p) => p.length > 0)) {
    if (panel.area && points.length > 1) {
      const first = points[0]!.split(',')[0];
      const last = points[points.length - 1]!.split(',')[0];
      const base = (panel.top + PANEL_HEIGHT).toFixed(1);
      out.push(`<polygon points="${first},${base} ${points.join(' ')} ${last},${base}" fill="${panel.color}" fill-opacity="0.15"/>`);
    }
    if (points.length === 1) out.push(`<circle cx="${points[0]!.split(',')[0]}" cy="${points[0]!.split(',')[1]}" r="2" fill="${panel.color}"/>`);
    else out.push(`<polyline points="${points.join(' ')}" fill="none" stroke="${panel.color}" stroke-width="2" stroke-linejoin="round"/>`);
  }
  out.push('</g>');
  return out.join('\n');
}

function timeAxis(seconds: number, x: (s: number) => number, baseline: number): string {
  const step = niceStep(seconds, 10);
  const out: string[] = ['<g class="time-axis">'];
  for (let s = 0; s <= seconds + 1e-9; s += step) {
    out.push(`<line x1="${x(s).toFixed(1)}" y1="${baseline}" x2="${x(s).toFixed(1)}" y2="${baseline + 5}" stroke="${COLORS.axis}"/>`);
    out.push(`<text x="${x(s).toFixed(1)}" y="${baseline + 18}" text-anchor="middle" fill="${COLORS.axis}">${fmt(s)}</text>`);
  }
  out.push(`<text x="${MARGIN.left + PLOT_WIDTH / 2}" y="${baseline + 36}" text-anchor="middle" fill="${COLORS.axis}">time since start of load (s)</text>`);
  out.push('</g>');
  return out.join('\n');
}

function outageBands(outages: NonNullable<TimelineInput['outages']>, x: (s: number) => number): string {
  const top = MARGIN.top;
  const height = 2 * PANEL_HEIGHT + MARGIN.gap;
  const out = outages.map((o) => {
    const from = x(o.fromMs / 1000);
    const width = Math.max(1, x(o.toMs / 1000) - from);
    return `<rect class="outage" x="${from.toFixed(1)}" y="${top}" width="${width.toFixed(1)}" height="${height}" fill="${COLORS.kill}" fill-opacity="0.12"/>`;
  });
  return `<g class="outages">${out.join('')}</g>`;
}

function eventLabel(e: BenchEvent): string {
  if (e.kind === 'kill') return `kill ${e.role ?? ''} n${e.node}`.replace('  ', ' ');
  if (e.kind === 'restart') return `restart n${e.node}`;
  return `leader n${e.node}`;
}

function eventMarks(events: readonly BenchEvent[], x: (s: number) => number): string {
  const top = MARGIN.top;
  const bottom = MARGIN.top + 2 * PANEL_HEIGHT + MARGIN.gap;
  const out: string[] = ['<g class="events">'];
  events.forEach((e, i) => {
    const color = e.kind === 'kill' ? COLORS.kill : e.kind === 'restart' ? COLORS.restart : COLORS.elected;
    const dash = e.kind === 'elected' ? '2 3' : '6 3';
    const ex = x(e.atMs / 1000).toFixed(1);
    // Labels of nearby events alternate between the two panels' top edges so they do not overlap.
    const labelY = i % 2 === 0 ? top + 14 : top + PANEL_HEIGHT + MARGIN.gap + 14;
    out.push(`<line class="event event-${e.kind}" data-at-ms="${Math.round(e.atMs)}" data-node="${e.node}" x1="${ex}" y1="${top}" x2="${ex}" y2="${bottom}" stroke="${color}" stroke-width="1.6" stroke-dasharray="${dash}"/>`);
    // Near the right edge the label goes to the left of its line.
    const atRight = Number(ex) > MARGIN.left + PLOT_WIDTH * 0.85;
    const labelX = atRight ? Number(ex) - 4 : Number(ex) + 4;
    out.push(
      `<text x="${labelX.toFixed(1)}" y="${labelY}" fill="${color}" font-size="11"${atRight ? ' text-anchor="end"' : ''}>${escapeXml(eventLabel(e))} @${(e.atMs / 1000).toFixed(1)}s</text>`,
    );
  });
  out.push('</g>');
  return out.join('\n');
}
