import { BlockList, isIP } from 'node:net';
import { GatehouseError } from '../errors.js';

/** A configuration the operator must fix: one clear line at start. */
const invalid = (msg: string) => new GatehouseError('invalid', msg);

/**
 * The peers whose forwarding headers the gateway believes (`gateway.trustedProxies`): single
 * addresses or CIDR ranges, IPv4 or IPv6. An IPv4 peer seen as IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`, on a dual-stack listener) is matched as the IPv4 address.
 */
export class TrustedProxies {
  private readonly list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const raw of entries) {
      const entry = raw.trim();
      const slash = entry.indexOf('/');
      const addr = slash === -1 ? entry : entry.slice(0, slash);
      const family = isIP(addr);
      if (family === 0) throw invalid(`gateway.trustedProxies: "${raw}" is not an IP address or CIDR range`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (slash === -1) {
        this.list.addAddress(addr, type);
        continue;
      }
      const bits = entry.slice(slash + 1);
      const prefix = Number(bits);
      if (!/^\d{1,3}$/.test(bits) || prefix > (family === 4 ? 32 : 128)) {
        throw invalid(`gateway.trustedProxies: "${raw}" has an invalid prefix length`);
      }
      this.list.addSubnet(addr, prefix, type);
    }
    this.size = entries.length;
  }

  /** Whether the socket peer `address` is a trusted proxy. */
  has(address: string | undefined): boolean {
    if (address === undefined || this.size === 0) return false;
    if (address.startsWith('::ffff:') && isIP(address.slice(7)) === 4) return this.list.check(address.slice(7), 'ipv4');
    return this.list.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
  }
}
