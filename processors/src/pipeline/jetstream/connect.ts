import { connect, type NatsConnection } from '@nats-io/transport-node';
import type { Logger } from '../../logger.js';

/**
 * Connects to NATS and never gives up reconnecting (jobs wait in JetStream while the link is down).
 * Connection status changes are logged.
 */
export async function connectNats(servers: string[], options: { name: string; logger?: Logger; reconnectTimeWaitMs?: number }): Promise<NatsConnection> {
  const nc = await connect({
    servers,
    name: options.name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: options.reconnectTimeWaitMs ?? 500,
    waitOnFirstConnect: false,
  });
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'disconnect' || s.type === 'reconnect' || s.type === 'error') {
        options.logger?.info(`nats ${s.type}`, { server: 'server' in s ? s.server : undefined });
      }
    }
  })().catch(() => undefined);
  return nc;
}
