/** Plain tus-js-client (browser build) beside the SDK bundle, which tests import from /sdk/tus-edge.mjs. */
import * as tus from 'tus-js-client';
import './common.js';

// The SDK as applications load it: the bundle the origin serves (not bundled into this page).
const bundleUrl = '/sdk/tus-edge.mjs';
const tusEdge = await import(bundleUrl);

Object.assign(window, { tus, tusEdge });
document.body.dataset.ready = 'true';
