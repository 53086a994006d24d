export { createApp } from './app.js';
export { buildContext } from './context.js';
export { parseConfig } from './config/config.js';
export type { Config } from './config/config.js';
export { startServer } from './server.js';
export type { RunningServer } from './server.js';
