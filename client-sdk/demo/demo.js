// The demo page: plain ES module, no build step. Uses the SDK bundle the server serves.
import { createClient, TusEdgeError } from '../sdk/tus-edge.mjs';

const $ = (sel, root = document) => root.querySelector(sel);
const params = new URLSearchParams(location.search);
const endpointInput = $('#endpoint');
const tokenInput = $('#token');

async function defaultEndpoint() {
  if (params.get('endpoint')) return params.get('endpoint');
  try {
    const res = await fetch('config.json');
    if (res.ok) return new URL((await res.json()).endpoint, location.href).toString();
  } catch { /* older server: fall back to /files/ */ }
  return new URL('/files/', location.href).toString();
}

const KiB = 1024;
function formatBytes(n) {
  if (n < KiB) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / KiB, i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
function formatDuration(s) {
  if (s == null || !Number.isFinite(s)) return '';
  s = Math.round(s);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60), r = s % 60;
  if (m < 60) return `${m} min ${String(r).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}
function clock(seconds) {
  const s = Math.floor(seconds), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h}:${String(m).padStart(2, '0')}:${String(r).padStart(2, '0')}` : `${m}:${String(r).padStart(2, '0')}`;
}
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const c of children) if (c != null) node.append(c);
  return node;
};
const STATE_LABEL = { uploading: 'Uploading', paused: 'Paused', processing: 'Processing', done: 'Done', failed: 'Failed' };
const JOB_LABEL = { fingerprint: 'Fingerprint', video: 'Video', documents: 'Document text', generate: 'Summary & quiz' };
const JOB_ORDER = ['fingerprint', 'video', 'documents', 'generate'];
const jobRank = (kind) => (JOB_ORDER.includes(kind) ? JOB_ORDER.indexOf(kind) : JOB_ORDER.length);

function client() {
  const token = tokenInput.value.trim();
  return createClient({ endpoint: endpointInput.value.trim(), ...(params.get('api') ? { apiUrl: params.get('api') } : {}), ...(token ? { token } : {}) });
}

function addFile(file) {
  $('#empty').hidden = true;
  const card = $('#upload-template').content.firstElementChild.cloneNode(true);
  const ext = (file.name.split('.').pop() || 'file').slice(0, 4).toUpperCase();
  $('.file-icon', card).textContent = ext;
  $('.file-name', card).textContent = file.name;
  $('.file-size', card).textContent = formatBytes(file.size);
  const bar = $('.bar', card);
  bar.setAttribute('aria-label', `Upload progress of ${file.name}`);
  const numbers = $('.numbers', card);
  const pause = $('.pause', card);
  const cancel = $('.cancel', card);
  const badge = $('.badge', card);
  const setState = (state, text) => {
    card.dataset.uploadState = state;
    badge.textContent = text ?? STATE_LABEL[state];
  };
  setState('uploading');
  $('#uploads').prepend(card);

  const sdk = client();
  const started = performance.now();
  const handle = sdk.upload(file, {
    onProgress: (p) => {
      bar.value = p.percent;
      const speed = p.bytesPerSecond > 0 ? ` · ${formatBytes(p.bytesPerSecond)}/s` : '';
      const eta = p.etaSeconds ? ` · ${formatDuration(p.etaSeconds)} left` : '';
      numbers.textContent = `${formatBytes(p.bytesUploaded)} of ${formatBytes(p.bytesTotal)} (${Math.floor(p.percent)} %)${speed}${eta}`;
    },
    onStateChange: (s) => {
      if (s === 'paused') {
        setState('paused');
        pause.textContent = 'Resume';
        const p = handle.progress;
        numbers.textContent = `${formatBytes(p.bytesUploaded)} of ${formatBytes(file.size)} (${Math.floor(p.percent)} %) · paused`;
      }
      if (s === 'uploading') { setState('uploading'); pause.textContent = 'Pause'; }
    },
  });
  pause.addEventListener('click', () => (handle.state === 'paused' ? handle.resume() : handle.pause()));
  cancel.addEventListener('click', () => handle.abort());

  (async () => {
    try {
      const { id } = await handle.done;
      card.dataset.uploadId = id;
      if (handle.resumed) card.dataset.resumed = 'true';
      bar.value = 100;
      const seconds = (performance.now() - started) / 1000;
      numbers.textContent = `${formatBytes(file.size)} uploaded${handle.resumed ? ' (resumed)' : ''} in ${formatDuration(seconds) || '0 s'} · ${formatBytes(file.size / Math.max(seconds, 0.001))}/s on average`;
      pause.hidden = true;
      cancel.hidden = true;
      setState('processing');
      const processing = $('.processing', card);
      processing.hidden = false;
      const status = await sdk.watchProcessing(id, { onStatus: (s) => renderJobs(processing, s) });
      renderJobs(processing, status);
      if (status.state === 'failed') {
        const reason = $('.reason', processing);
        reason.hidden = false;
        reason.textContent = status.reason ?? 'processing failed';
      }
      const results = await sdk.results(id);
      await renderResults($('.results', card), results, sdk, tokenInput.value.trim() !== '');
      setState(status.state === 'failed' ? 'failed' : 'done');
    } catch (err) {
      const code = err instanceof TusEdgeError ? err.code : 'ERROR';
      pause.hidden = true;
      cancel.hidden = true;
      numbers.textContent = code === 'ABORTED' ? 'Cancelled' : `${err.message}`;
      setState('failed', code === 'ABORTED' ? 'Cancelled' : `Failed · ${code}`);
    }
  })();
}

function renderJobs(root, status) {
  const list = $('.jobs', root);
  list.replaceChildren(...Object.values(status.jobs).sort((a, b) => jobRank(a.kind) - jobRank(b.kind)).map((job) => {
    const pct = job.state === 'processing' && job.progress != null ? ` ${Math.round(job.progress * 100)} %` : '';
    const li = el('li', { className: `job ${job.state}`, title: job.reason ?? '' }, el('strong', { textContent: JOB_LABEL[job.kind] ?? job.kind }), `${job.state}${pct}`);
    return li;
  }));
}

async function mediaUrl(sdk, file, withToken) {
  return withToken ? URL.createObjectURL(await sdk.fetchResult(file)) : file.url;
}

async function renderResults(root, r, sdk, withToken) {
  const parts = [];
  const rendition = r.renditions[0];
  let video;
  if (rendition) {
    video = el('video', { controls: true, preload: 'metadata' });
    video.setAttribute('aria-label', `Rendition ${rendition.height}p`);
    if (r.poster) video.poster = await mediaUrl(sdk, r.poster, withToken);
    video.src = await mediaUrl(sdk, rendition, withToken);
    parts.push(el('div', { className: 'media' }, el('h4', { textContent: `Video (${rendition.height}p)` }), video));
  }
  if (r.poster && !rendition) parts.push(el('div', { className: 'poster-row' }, el('img', { src: await mediaUrl(sdk, r.poster, withToken), alt: 'Poster frame' })));
  if (r.frames.length) {
    const figures = await Promise.all(r.frames.slice(0, 4).map(async (f, i) => el('figure', {}, el('img', { src: await mediaUrl(sdk, f, withToken), alt: `Preview frame ${i + 1}` }))));
    if (r.poster) figures.unshift(el('figure', {}, el('img', { src: await mediaUrl(sdk, r.poster, withToken), alt: 'Poster frame' }), el('figcaption', { textContent: 'Poster' })));
    parts.push(el('div', {}, el('h4', { textContent: 'Frames' }), el('div', { className: 'poster-row' }, ...figures)));
  }
  if (r.summary) parts.push(el('div', {}, el('h4', { textContent: 'Summary' }), el('p', { className: 'summary', textContent: r.summary })));
  if (r.chapters.length) {
    const unit = r.text?.unit === 'slide' ? 'slide' : r.text?.unit === 'section' ? 'section' : 'p.';
    const items = r.chapters.map((c) => {
      const at = c.start != null
        ? el('button', { type: 'button', className: 'chapter-at', textContent: clock(c.start), onclick: () => { if (video) { video.currentTime = c.start; video.play().catch(() => {}); } } })
        : el('span', { className: 'chapter-at', textContent: `${unit} ${c.page}` });
      if (c.start != null) at.setAttribute('aria-label', `Play from ${clock(c.start)}: ${c.title}`);
      return el('li', {}, at, el('div', {}, el('div', { className: 'chapter-title', textContent: c.title }), el('div', { className: 'chapter-summary', textContent: c.summary })));
    });
    parts.push(el('div', {}, el('h4', { textContent: 'Chapters' }), el('ol', { className: 'chapters' }, ...items)));
  }
  if (r.text?.segments?.length) {
    const label = r.text.unit === 'time' ? 'Transcript' : 'Text';
    const paras = r.text.segments.slice(0, 200).map((s) => el('p', {},
      s.start != null ? el('span', { className: 'at', textContent: clock(s.start) }) : s.ref != null ? el('span', { className: 'at', textContent: `${r.text.unit} ${s.ref}` }) : null,
      s.text));
    parts.push(el('details', { open: true }, el('summary', {}, el('strong', { textContent: label })), el('div', { className: 'transcript' }, ...paras)));
  }
  if (r.quiz.length) {
    const sets = r.quiz.map((q, qi) => {
      const name = `q-${crypto.randomUUID()}`;
      const feedback = el('p', { className: 'feedback', role: 'status' });
      const choices = q.choices.map((choice, ci) => el('label', {}, el('input', { type: 'radio', name, value: String(ci), onchange: () => {
        const right = ci === q.answer;
        feedback.className = `feedback ${right ? 'right' : 'wrong'}`;
        feedback.textContent = `${right ? 'Right.' : `Not quite: ${q.choices[q.answer]}.`} ${q.explanation}`;
      } }), choice));
      return el('fieldset', {}, el('legend', { textContent: `${qi + 1}. ${q.question}` }), ...choices, feedback);
    });
    parts.push(el('div', {}, el('h4', { textContent: 'Quiz' }), el('div', { className: 'quiz' }, ...sets)));
  }
  if (r.files.length) {
    const links = r.files.map((f) => {
      const a = el('a', { href: f.url, textContent: f.name, target: '_blank', rel: 'noopener' });
      // With a token, a plain link would be refused: download with the token, then open the copy.
      if (withToken) a.addEventListener('click', async (e) => { e.preventDefault(); window.open(URL.createObjectURL(await sdk.fetchResult(f)), '_blank'); });
      return a;
    });
    const line = el('p', { className: 'files' }, 'Files: ');
    links.forEach((a, i) => line.append(a, i < links.length - 1 ? ' · ' : ''));
    parts.push(line);
  }
  if (parts.length) {
    root.replaceChildren(...parts);
    root.hidden = false;
  }
}

const input = $('#file-input');
input.addEventListener('change', () => {
  for (const f of input.files) addFile(f);
  input.value = '';
});
const zone = $('#dropzone');
zone.addEventListener('dragover', (e) => { e.preventDefault(); zone.classList.add('over'); });
zone.addEventListener('dragleave', () => zone.classList.remove('over'));
zone.addEventListener('drop', (e) => {
  e.preventDefault();
  zone.classList.remove('over');
  for (const f of e.dataTransfer.files) addFile(f);
});

endpointInput.value = await defaultEndpoint();
document.body.dataset.ready = 'true';
