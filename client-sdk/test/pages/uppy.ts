/** Uppy 6 (core, Dashboard, tus plugin) as an application would set it up. */
import Uppy from '@uppy/core';
import Dashboard from '@uppy/dashboard';
import Tus from '@uppy/tus';
// esbuild's `text` loader (see bundlePage) turns the stylesheets into strings.
import coreCss from '@uppy/core/css/style.min.css';
import dashboardCss from '@uppy/dashboard/css/style.min.css';
import './common.js';

const style = document.createElement('style');
style.textContent = `${coreCss}\n${dashboardCss}`;
document.head.append(style);

/** Creates an Uppy with an inline Dashboard and the tus plugin; returns it. */
function startUppy(endpoint: string, tusOptions: Record<string, unknown> = {}) {
  const uppy = new Uppy({ autoProceed: false, id: 'uppy-test' });
  uppy.use(Dashboard, { inline: true, target: '#app', height: 360, proudlyDisplayPoweredByUppy: false });
  uppy.use(Tus, { endpoint, chunkSize: 2 * 1024 * 1024, retryDelays: [0, 500, 1000], ...tusOptions });
  return uppy;
}

Object.assign(window, { startUppy });
document.body.dataset.ready = 'true';
