// The operator page: asks for the operator token (kept in sessionStorage), then shows the overview
// (refreshed every few seconds), recent failures, processing-time charts and the dead letters with a
// Retry button each. Everything shown from the server goes through textContent, never HTML.
import { renderProcessingCharts } from './charts.js';

const TOKEN_KEY = 'tus-edge.operator-token';
const params = new URLSearchParams(location.search);
/** Overview refresh period (`?refresh=<ms>`, at least 1 s). */
const REFRESH_MS = Math.max(1000, Number(params.get('refresh')) || 5000);
const CHARTS_REFRESH_MS = 60_000;
const PAGE_SIZE = 20;

const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem(TOKEN_KEY);
let timer = null;
let chartsAt = 0;
/** Cursors of the dead-letter pages shown: [] is the newest page. */
let cursors = [];

class Denied extends Error {}

async function api(path, init = {}) {
  const res = await fetch(path, { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } });
  const body = await res.json().catch(() => null);
  if (res.status === 401 || res.status === 403) {
    throw new Denied(`this is not the operator token (${body?.error?.message ?? `HTTP ${res.status}`})`);
  }
  if (!res.ok) {
    const err = new Error(body?.error?.message ?? `HTTP ${res.status}`);
    err.status = res.status;
    err.code = body?.error?.code;
    throw err;
  }
  return body;
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

function row(...cells) {
  const tr = document.createElement('tr');
  tr.append(...cells);
  return tr;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '–');

function say(text, isError = false) {
  const m = $('message');
  m.textContent = text;
  m.className = isError ? 'error' : '';
}

function showLogin(error = '') {
  clearTimeout(timer);
  document.body.dataset.state = 'login';
  $('login').hidden = false;
  $('dashboard').hidden = true;
  $('logout').hidden = true;
  $('login-error').textContent = error;
  $('token').focus();
}

function renderOverview(o) {
  $('where').textContent = `${o.deployment} · queue ${o.queue} · node ${o.node}`;
  $('updated').textContent = `updated ${new Date(o.at).toLocaleTimeString()}`;
  const queues = $('queues').tBodies[0];
  queues.replaceChildren(...o.queues.map((q) => {
    const tr = row(cell(q.kind), cell(q.lane), cell(String(q.waiting), 'num'), cell(String(q.inFlight), 'num'));
    tr.dataset.kind = q.kind;
    tr.dataset.lane = q.lane;
    return tr;
  }));
  if (o.queues.length === 0) queues.append(row(Object.assign(cell('no queues yet'), { colSpan: 4 })));
  const nodes = $('nodes').tBodies[0];
  const rows = o.nodes.flatMap((n) => Object.keys(n.workers).sort().map((k) => row(cell(n.node), cell(k), cell(String(n.workers[k]), 'num'), cell(String(n.inFlight[k] ?? 0), 'num'))));
  nodes.replaceChildren(...rows);
  if (rows.length === 0) nodes.append(row(Object.assign(cell('workers run on other hosts (see their /metrics); in flight per kind is in the queue table'), { colSpan: 4 })));
  $('problems').replaceChildren(...o.problems.map((p) => Object.assign(document.createElement('li'), { textContent: p })));
  const failures = $('failures');
  failures.replaceChildren(...o.recentFailures.map((f) => {
    const li = document.createElement('li');
    li.dataset.deadLetterId = f.id;
    const head = document.createElement('strong');
    head.textContent = `${f.kind} · ${f.code}`;
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = ` ${when(f.failedAt)} · upload ${f.uploadId ?? '–'}${f.retriedAt ? ' · retried' : ''}`;
    const reason = document.createElement('p');
    reason.textContent = f.reason;
    li.append(head, meta, reason);
    return li;
  }));
  if (o.recentFailures.length === 0) failures.append(Object.assign(document.createElement('li'), { textContent: 'No failures.', className: 'empty' }));
}

function renderDeadLetters(page) {
  const body = $('dead-letters').tBodies[0];
  body.replaceChildren(...page.deadLetters.map((d) => {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'retry';
    button.textContent = d.retriedAt ? 'Retried' : 'Retry';
    button.disabled = Boolean(d.retriedAt) || d.uploadId === null;
    button.title = d.retriedAt ? `put back on the queue ${when(d.retriedAt)}` : 'put the job back on its queue';
    button.addEventListener('click', () => retry(d, button));
    const tr = row(cell(when(d.failedAt)), cell(d.kind), cell(d.uploadId ?? '–', 'mono'), cell(d.code, 'mono'), cell(d.reason, 'reason'), cell(String(d.attempts), 'num'), cell(d.jobId, 'mono'), document.createElement('td'));
    tr.lastChild.append(button);
    tr.dataset.deadLetterId = d.id;
    tr.dataset.jobId = d.jobId;
    tr.dataset.failedAt = d.failedAt;
    tr.dataset.retried = d.retriedAt ? 'true' : 'false';
    return tr;
  }));
  if (page.deadLetters.length === 0) body.append(row(Object.assign(cell('No dead letters.'), { colSpan: 8, className: 'empty' })));
  $('older').disabled = !page.nextCursor;
  $('older').dataset.cursor = page.nextCursor ?? '';
  $('newer').disabled = cursors.length === 0;
}

async function loadDeadLetters() {
  const cursor = cursors[cursors.length - 1];
  const query = new URLSearchParams({ limit: String(PAGE_SIZE) });
  if (cursor) query.set('cursor', cursor);
  renderDeadLetters(await api(`/api/admin/dead-letters?${query}`));
}

async function loadCharts() {
  const charts = $('charts');
  try {
    const analytics = await api('/api/analytics/processing?groupBy=kind&interval=1h');
    const drawn = renderProcessingCharts(charts, analytics);
    charts.dataset.state = drawn > 0 ? 'drawn' : 'empty';
  } catch (err) {
    if (err instanceof Denied) throw err;
    const p = document.createElement('p');
    p.className = 'error';
    p.textContent = err.status === 404 ? 'Processing trends are not available on this server (no analytics API).' : `Processing trends could not be read: ${err.message}`;
    charts.replaceChildren(p);
    charts.dataset.state = 'unavailable';
  }
}

async function retry(d, button) {
  button.disabled = true;
  button.textContent = 'Retrying…';
  try {
    const result = await api(`/api/admin/dead-letters/${encodeURIComponent(d.id)}/retry`, { method: 'POST' });
    say(result.outcome === 'retried' ? `Job ${d.jobId} is back on its queue.` : `Job ${d.jobId} was already put back.`);
    await refresh();
  } catch (err) {
    if (err instanceof Denied) return showLogin(err.message);
    button.disabled = false;
    button.textContent = 'Retry';
    say(`Retry of ${d.jobId} failed: ${err.message}`, true);
  }
}

async function refresh() {
  clearTimeout(timer);
  try {
    const overview = await api('/api/admin/overview');
    renderOverview(overview);
    await loadDeadLetters();
    if (Date.now() - chartsAt >= CHARTS_REFRESH_MS) {
      chartsAt = Date.now();
      await loadCharts();
    }
    document.body.dataset.state = 'ready';
    document.body.dataset.refreshedAt = overview.at;
  } catch (err) {
    if (err instanceof Denied) {
      sessionStorage.removeItem(TOKEN_KEY);
      return showLogin(err.message);
    }
    say(`Could not refresh: ${err.message}`, true);
  }
  timer = setTimeout(refresh, REFRESH_MS);
}

function start() {
  $('login').hidden = true;
  $('dashboard').hidden = false;
  $('logout').hidden = false;
  chartsAt = 0;
  cursors = [];
  void refresh();
}

$('login-form').addEventListener('submit', (e) => {
  e.preventDefault();
  token = $('token').value.trim();
  $('token').value = '';
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
});
$('logout').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  token = null;
  showLogin();
});
$('older').addEventListener('click', () => {
  cursors.push($('older').dataset.cursor);
  void loadDeadLetters().catch((err) => say(err.message, true));
});
$('newer').addEventListener('click', () => {
  cursors = [];
  void loadDeadLetters().catch((err) => say(err.message, true));
});

if (token) start();
else showLogin();
