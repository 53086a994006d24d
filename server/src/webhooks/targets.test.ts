import { describe, expect, it } from 'vitest';
import { checkTarget, isForbiddenAddress, pinnedLookup, TargetRefused, type Resolve } from './targets.js';

const resolver = (table: Record<string, string[]>): Resolve => async (host) => {
  const list = table[host];
  if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
  return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

describe('webhook targets (server-side request forgery)', () => {
  it.each([
    '127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '169.254.1.1', '100.64.0.1',
    '0.0.0.0', '224.0.0.1', '255.255.255.255', '198.18.0.1', '::1', '::', 'fe80::1', 'fc00::1', 'fd00:ec2::254', '::ffff:127.0.0.1',
    '::ffff:10.0.0.1', '64:ff9b::a00:1', '2002:a00:1::1', 'ff02::1', 'not-an-address',
  ])('refuses %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(true);
  });

  it.each(['93.184.216.34', '1.1.1.1', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111'])('allows %s', (address) => {
    expect(isForbiddenAddress(address)).toBe(false);
  });

  it('checks every address a name resolves to, and literal hosts, unless private targets are allowed', async () => {
    const resolve = resolver({
      'public.example': ['93.184.216.34', '2606:4700:4700::1111'],
      'rebind.example': ['93.184.216.34', '10.0.0.5'],
      'metadata.example': ['169.254.169.254'],
      localhost: ['127.0.0.1', '::1'],
    });
    await expect(checkTarget('https://public.example/hook', false, resolve)).resolves.toHaveLength(2);
    for (const url of ['https://rebind.example/x', 'http://metadata.example/latest', 'http://localhost:8080/', 'http://127.0.0.1/', 'http://[::1]:9/', 'http://[fd00:ec2::254]/']) {
      await expect(checkTarget(url, false, resolve), url).rejects.toBeInstanceOf(TargetRefused);
    }
    await expect(checkTarget('https://rebind.example/x', false, resolve)).rejects.toThrow(/10\.0\.0\.5/);
    await expect(checkTarget('ftp://public.example/', false, resolve)).rejects.toThrow(/http and https/);
    await expect(checkTarget('https://nowhere.example/', false, resolve)).rejects.toThrow(/does not resolve/);
    await expect(checkTarget('not a url', true, resolve)).rejects.toBeInstanceOf(TargetRefused);
    await expect(checkTarget('http://localhost:8080/', true, resolve)).resolves.toEqual([{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }]);
  });

  it('connects to the checked address without asking DNS again', async () => {
    const lookup = pinnedLookup([{ address: '93.184.216.34', family: 4 }, { address: '2606:4700:4700::1111', family: 6 }]);
    const one = await new Promise((resolve) => lookup('public.example', {}, (_err, address, family) => resolve([address, family])));
    expect(one).toEqual(['93.184.216.34', 4]);
    const v6 = await new Promise((resolve) => lookup('public.example', { family: 6 }, (_err, address) => resolve(address)));
    expect(v6).toBe('2606:4700:4700::1111');
    const all = await new Promise((resolve) => lookup('public.example', { all: true }, (_err, list) => resolve(list)));
    expect(all).toHaveLength(2);
  });
});
