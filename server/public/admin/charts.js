// Processing-time charts drawn as SVG from GET /api/analytics/processing?interval=1h (no library).
// chartModel() is pure (tested in Node with a fixture); renderChart() turns a model into SVG nodes.

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Milliseconds as a short label: 812 ms, 2.4 s, 3.1 min. */
export function formatMs(ms) {
  if (ms == null || !Number.isFinite(ms)) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

/** `MM-DD HH:MM` (UTC) of an ISO time (the x axis is in UTC, like the analytics buckets). */
function timeLabel(iso) {
  return `${iso.slice(5, 10)} ${iso.slice(11, 16)}`;
}

/** Bucket lengths of the analytics API's `interval`. */
export const INTERVAL_MS = { '1h': 3_600_000, '1d': 86_400_000 };

/**
 * The geometry of one group's chart over the time range `from`..`to` (default: the series' own span):
 * a line per percentile (p50, p95) through the middle of each bucket, broken where a bucket has no
 * finished job or is missing (no jobs then), and bars of jobs (failed stacked in red) along the bottom.
 * Returns null when the group has no series.
 */
export function chartModel(group, { width = 560, height = 180, from, to, intervalMs = INTERVAL_MS['1h'] } = {}) {
  const series = (Array.isArray(group.series) ? group.series : []).filter((s) => Number.isFinite(Date.parse(s.start)));
  if (series.length === 0) return null;
  series.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  const pad = { left: 56, right: 12, top: 12, bottom: 22 };
  const barsHeight = 36;
  const plotW = width - pad.left - pad.right;
  const lineBottom = height - pad.bottom - barsHeight - 6;
  const lineH = lineBottom - pad.top;
  const start = Number.isFinite(Date.parse(from)) ? Date.parse(from) : Date.parse(series[0].start);
  const endGiven = Date.parse(to);
  const end = Math.max(start + intervalMs, Number.isFinite(endGiven) ? endGiven : Date.parse(series[series.length - 1].start) + intervalMs);
  const span = end - start;
  const values = series.flatMap((s) => [s.p50Ms, s.p95Ms]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const maxMs = Math.max(1, ...values);
  const maxJobs = Math.max(1, ...series.map((s) => s.jobs || 0));
  /** x of a bucket's middle, kept inside the plot. */
  const xAt = (iso) => {
    const t = Math.min(end, Math.max(start, Date.parse(iso) + intervalMs / 2));
    return pad.left + ((t - start) / span) * plotW;
  };
  const yAt = (ms) => lineBottom - (ms / maxMs) * lineH;
  const line = (pick) => {
    let d = '';
    let previous = null;
    const points = [];
    for (const s of series) {
      const v = s[pick];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        previous = null;
        continue;
      }
      const x = Number(xAt(s.start).toFixed(1));
      const y = Number(yAt(v).toFixed(1));
      // Consecutive buckets join; a missing bucket between them (no jobs that hour) breaks the line.
      const joins = previous !== null && Date.parse(s.start) - previous <= intervalMs;
      d += `${joins ? 'L' : 'M'}${x},${y} `;
      previous = Date.parse(s.start);
      points.push({ x, y, value: v });
    }
    return { d: d.trim(), points };
  };
  const barW = Math.max(2, Math.min(18, (intervalMs / span) * plotW * 0.7));
  const barsBottom = height - pad.bottom;
  const bars = series.map((s) => {
    const jobs = s.jobs || 0;
    const failed = Math.min(jobs, s.failed || 0);
    const h = (jobs / maxJobs) * barsHeight;
    const fh = (failed / maxJobs) * barsHeight;
    return { x: xAt(s.start) - barW / 2, width: barW, y: barsBottom - h, height: h, failedY: barsBottom - fh, failedHeight: fh, jobs, failed, start: s.start };
  });
  return {
    width,
    height,
    key: String(group.key),
    title: `${group.key}: ${group.jobs} jobs, ${group.failed} failed (${((group.failureRate || 0) * 100).toFixed(1)} %), p50 ${formatMs(group.durationMs?.p50)}, p95 ${formatMs(group.durationMs?.p95)}`,
    p50: line('p50Ms'),
    p95: line('p95Ms'),
    bars,
    yTicks: [
      { y: yAt(maxMs), label: formatMs(maxMs) },
      { y: yAt(maxMs / 2), label: formatMs(maxMs / 2) },
      { y: lineBottom, label: '0' },
    ],
    xLabels: [
      { x: pad.left, label: timeLabel(new Date(start).toISOString()), anchor: 'start' },
      { x: width - pad.right, label: timeLabel(new Date(end).toISOString()), anchor: 'end' },
    ],
    plot: { left: pad.left, right: width - pad.right, top: pad.top, bottom: lineBottom },
  };
}

function el(name, attrs = {}, text) {
  const node = document.createElementNS(SVG_NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The SVG of one model (see chartModel). */
export function renderChart(model) {
  const svg = el('svg', { class: 'chart', viewBox: `0 0 ${model.width} ${model.height}`, width: model.width, height: model.height, role: 'img', 'data-kind': model.key });
  svg.append(el('title', {}, model.title));
  for (const t of model.yTicks) {
    svg.append(el('line', { class: 'grid', x1: model.plot.left, x2: model.plot.right, y1: t.y, y2: t.y }));
    svg.append(el('text', { class: 'tick', x: model.plot.left - 6, y: t.y + 4, 'text-anchor': 'end' }, t.label));
  }
  for (const b of model.bars) {
    const bar = el('rect', { class: 'bar', x: b.x, y: b.y, width: b.width, height: b.height });
    bar.append(el('title', {}, `${b.start}: ${b.jobs} jobs, ${b.failed} failed`));
    svg.append(bar);
    if (b.failedHeight > 0) svg.append(el('rect', { class: 'bar failed', x: b.x, y: b.failedY, width: b.width, height: b.failedHeight }));
  }
  for (const [name, line] of [['p95', model.p95], ['p50', model.p50]]) {
    if (line.d) svg.append(el('path', { class: `line ${name}`, d: line.d, 'data-series': name }));
    for (const p of line.points) {
      const dot = el('circle', { class: `dot ${name}`, cx: p.x, cy: p.y, r: 2.5 });
      dot.append(el('title', {}, `${name} ${formatMs(p.value)}`));
      svg.append(dot);
    }
  }
  for (const x of model.xLabels) svg.append(el('text', { class: 'tick', x: x.x, y: model.height - 6, 'text-anchor': x.anchor }, x.label));
  return svg;
}

/** Replaces `container`'s content with one captioned chart per group of an analytics answer. */
export function renderProcessingCharts(container, analytics) {
  container.replaceChildren();
  const groups = Array.isArray(analytics?.groups) ? analytics.groups : [];
  let drawn = 0;
  const range = { from: analytics?.from, to: analytics?.to, intervalMs: INTERVAL_MS[analytics?.interval] ?? INTERVAL_MS['1h'] };
  for (const group of groups) {
    const model = chartModel(group, range);
    if (!model) continue;
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = model.title;
    figure.append(renderChart(model), caption);
    container.append(figure);
    drawn++;
  }
  if (drawn === 0) {
    const p = document.createElement('p');
    p.className = 'empty';
    p.textContent = 'No finished jobs in the last 24 hours.';
    container.append(p);
  }
  return drawn;
}
