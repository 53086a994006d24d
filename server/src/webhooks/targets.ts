import dns from 'node:dns/promises';
import net, { BlockList } from 'node:net';

/**
 * Server-side request forgery guard: a webhook target must resolve only to public addresses. Refused:
 * private (RFC 1918, unique local), loopback, link-local (and with it the cloud metadata address
 * 169.254.169.254), carrier-grade NAT, unspecified, multicast, reserved and documentation ranges, and
 * IPv6 forms that embed an IPv4 address (mapped, NAT64, 6to4). Every address the name resolves to is
 * checked, at registration and again before each attempt, and the attempt connects to the address that
 * was checked (no second lookup a rebinding DNS server could answer differently).
 */
const BLOCKED = new BlockList();
for (const [net4, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) BLOCKED.addSubnet(net4, bits, 'ipv4');
for (const [net6, bits] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) BLOCKED.addSubnet(net6, bits, 'ipv6');

/** Why a target was refused (the registration answers 400 with it; a delivery records it as its error). */
export class TargetRefused extends Error {
  override name = 'TargetRefused';
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to every address (the default is the system resolver, as connections use). */
export type Resolve = (host: string) => Promise<ResolvedAddress[]>;

const systemResolve: Resolve = async (host) =>
  (await dns.lookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Whether `address` (an IPv4 or IPv6 literal) is one a webhook must not reach. */
export function isForbiddenAddress(address: string): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return true;
  // IPv4-mapped IPv6 (::ffff:a.b.c.d): refused whole (node's BlockList would also apply a ::ffff:0:0/96
  // rule to every IPv4 address, so it is checked here instead).
  if (family === 'ipv6' && /^(0{0,4}:){0,5}:?ffff:/i.test(address.replace(/^::/, '0::'))) return true;
  return BLOCKED.check(address, family);
}

/**
 * Checks that `url` is an http(s) URL whose host resolves only to allowed addresses (any address when
 * `allowPrivate`); returns the addresses to connect to. Throws {@link TargetRefused} otherwise.
 */
export async function checkTarget(url: string, allowPrivate: boolean, resolve: Resolve = systemResolve): Promise<ResolvedAddress[]> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TargetRefused('not a URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TargetRefused('only http and https URLs are delivered to');
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: ResolvedAddress[];
  if (net.isIP(host)) addresses = [{ address: host, family: net.isIPv6(host) ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new TargetRefused(`${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (addresses.length === 0) throw new TargetRefused(`${host} resolves to no address`);
  if (!allowPrivate) {
    const forbidden = addresses.find((a) => isForbiddenAddress(a.address));
    if (forbidden) throw new TargetRefused(`${host} resolves to ${forbidden.address}, a private, loopback, link-local or reserved address (set WEBHOOK_ALLOW_PRIVATE=true to allow)`);
  }
  return addresses;
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | ResolvedAddress[], family?: number) => void;

/**
 * A `lookup` for `http.request` that answers with the addresses already checked, never asking DNS again
 * (the connection goes where the check looked).
 */
export function pinnedLookup(addresses: ResolvedAddress[]) {
  return (_host: string, options: { all?: boolean; family?: number } | number | undefined, callback: LookupCallback): void => {
    const opts = typeof options === 'object' && options !== null ? options : {};
    const wanted = opts.family === 4 || opts.family === 6 ? addresses.filter((a) => a.family === opts.family) : addresses;
    const list = wanted.length > 0 ? wanted : addresses;
    if (opts.all) callback(null, list);
    else callback(null, list[0]!.address, list[0]!.family);
  };
}
