/** Plain tus-js-client (browser build) beside the SDK bundle, which tests import from /sdk/tus-edge.mjs. */
import * as tus from 'tus-js-client';
import './common.js';

Object.assign(window, { tus });
document.body.dataset.ready = 'true';
