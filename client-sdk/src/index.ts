/**
 * Browser SDK placeholder: the SDK arrives with its own issue. Until then, any tus client
 * (tus-js-client, Uppy, tuspy, curl) works against the server.
 */
export const TUS_VERSION = '1.0.0';
