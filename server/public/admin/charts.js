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

/** HH:MM (UTC) of an ISO time. */
function hourLabel(iso) {
  return new Date(iso).toISOString().slice(11, 16);
}

/**
 * The geometry of one group's chart: a line per percentile (p50, p95) over the series' buckets, with
 * gaps where a bucket had no finished job, and bars of jobs (failed stacked in red) along the bottom.
 * Returns null when the group has no series.
 */
export function chartModel(group, { width = 560, height = 180 } = {}) {
  const series = Array.isArray(group.series) ? group.series : [];
  if (series.length === 0) return null;
  const pad = { left: 56, right: 12, top: 12, bottom: 22 };
  const barsHeight = 36;
  const plotW = width - pad.left - pad.right;
  const lineBottom = height - pad.bottom - barsHeight - 6;
  const lineH = lineBottom - pad.top;
  const values = series.flatMap((s) => [s.p50Ms, s.p95Ms]).filter((v) => typeof v === 'number' && Number.isFinite(v));
  const maxMs = Math.max(1, ...values);
  const maxJobs = Math.max(1, ...series.map((s) => s.jobs || 0));
  const step = series.length > 1 ? plotW / (series.length - 1) : 0;
  const xAt = (i) => pad.left + (series.length > 1 ? i * step : plotW / 2);
  const yAt = (ms) => lineBottom - (ms / maxMs) * lineH;
  const line = (pick) => {
    // One path with a move wherever the previous bucket had no value.
    let d = '';
    let drawing = false;
    const points = [];
    series.forEach((s, i) => {
      const v = s[pick];
      if (typeof v !== 'number' || !Number.isFinite(v)) {
        drawing = false;
        return;
      }
      const x = xAt(i).toFixed(1);
      const y = yAt(v).toFixed(1);
      d += `${drawing ? 'L' : 'M'}${x},${y} `;
      drawing = true;
      points.push({ x: Number(x), y: Number(y), value: v });
    });
    return { d: d.trim(), points };
  };
  const barW = Math.max(2, Math.min(18, (series.length > 1 ? step : plotW) * 0.6));
  const barsBottom = height - pad.bottom;
  const bars = series.map((s, i) => {
    const jobs = s.jobs || 0;
    const failed = Math.min(jobs, s.failed || 0);
    const h = (jobs / maxJobs) * barsHeight;
    const fh = (failed / maxJobs) * barsHeight;
    return { x: xAt(i) - barW / 2, width: barW, y: barsBottom - h, height: h, failedY: barsBottom - fh, failedHeight: fh, jobs, failed, start: s.start };
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
      { x: xAt(0), label: hourLabel(series[0].start), anchor: 'start' },
      { x: xAt(series.length - 1), label: hourLabel(series[series.length - 1].start), anchor: 'end' },
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
  for (const group of groups) {
    const model = chartModel(group);
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
