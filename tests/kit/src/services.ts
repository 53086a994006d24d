/**
 * Real backing services for tests and the local stack, each on 127.0.0.1 with random free ports in a
 * temp dir: Redis, NATS (JetStream), PostgreSQL, S3 (Swift with s3api, or an external endpoint), nginx.
 *
 * Every `start*()` is bounded (30 s by default), leaves no process behind when it fails, and returns
 * a handle whose `stop()` sends SIGTERM (SIGKILL after 5 s) by PID and removes the temp dir.
 * `restart()` keeps the port and data dir so clients can reconnect. Anything still running when this
 * process exits (crash, signal) is SIGKILLed. System packages: `scripts/install-test-deps.sh`.
 *
 * The implementations live in `./services/`.
 */
export { START_TIMEOUT_MS, STOP_TIMEOUT_MS, killAllSync, type ServiceOptions } from './services/process.js';
export { startRedis, type RedisHandle } from './services/redis.js';
export { startNats, readNatsInfo, type NatsHandle } from './services/nats.js';
export { startS3, externalS3FromEnv, type S3Options } from './services/s3.js';
export { createS3Client, deleteBucketAndContents, s3Env, type S3Connection, type S3Handle } from './services/s3-client.js';
export { SWIFT_ACCESS_KEY_ID, SWIFT_SECRET_ACCESS_KEY } from './services/swift.js';
export { startPostgres, postgresBinDir, type PostgresHandle } from './services/postgres.js';
export { startNginx, nginxConfig, type NginxHandle } from './services/nginx.js';
export { startHaproxy, haproxyConfig, type HaproxyHandle } from './services/haproxy.js';
