import { lookup as dnsLookup } from 'node:dns/promises';
import { buildConnector } from 'undici';
import type { SsrfAllow } from '../domain/delivery/ssrf-policy.ts';
import { coerceError } from '../errors.ts';
import { SsrfBlockedError } from '../domain/delivery/errors.ts';
import { assessAddress, describeBlockedAddress, parseHostLiteral } from '../domain/delivery/ssrf-policy.ts';

/**
 * An undici connector that resolves the host itself, checks every address against the SSRF
 * policy and opens the socket to the very address it checked: there is no second DNS lookup
 * for a rebinding attacker to answer differently. TLS keeps the host name for SNI and
 * certificate verification.
 */

export interface ResolvedAddress {
  address: string;
  family: number;
}
/** Resolves a host name to all its addresses (injected in tests). */
export type LookupFunction = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export const systemLookup: LookupFunction = (hostname) => dnsLookup(hostname, { all: true });

export interface SsrfConnectorOptions {
  allow: SsrfAllow;
  lookup?: LookupFunction;
  /** Opens the socket to an address; defaults to undici's own connector. */
  connect?: buildConnector.connector;
  /** Per address tried, when `connect` is the default. */
  connectTimeoutMs?: number;
}

/**
 * The addresses a host may be reached at, in resolution order, ready to connect to. Throws
 * `SsrfBlockedError` when any of them is refused: a name that mixes public and private
 * addresses is refused as a whole, whichever one a connection would pick.
 */
export async function resolveAllowedAddresses(hostname: string, allow: SsrfAllow, lookup: LookupFunction = systemLookup): Promise<string[]> {
  const literal = parseHostLiteral(hostname);
  const candidates = literal !== undefined ? [literal] : (await lookup(hostname)).map((r) => r.address);
  if (candidates.length === 0) throw Object.assign(new Error(`No address found for ${hostname}`), { code: 'ENOTFOUND', hostname });
  const addresses: string[] = [];
  for (const candidate of candidates) {
    const assessment = assessAddress(candidate, allow);
    if (!assessment?.allowed) {
      throw new SsrfBlockedError(hostname, candidate, describeBlockedAddress(candidate, allow) ?? 'refused');
    }
    // ::ffff:a.b.c.d is dialled as a.b.c.d: the address that was judged is the one reached.
    const address = assessment.embedded?.kind === 'ipv4-mapped' ? assessment.embedded.ipv4 : assessment.address;
    if (!addresses.includes(address)) addresses.push(address);
  }
  return addresses;
}

export function createSsrfSafeConnector(options: SsrfConnectorOptions): buildConnector.connector {
  const { allow, lookup = systemLookup } = options;
  const connect = options.connect ?? buildConnector({ timeout: options.connectTimeoutMs ?? 10_000 });

  return (connectOptions, callback) => {
    const { hostname } = connectOptions;
    const isLiteral = parseHostLiteral(hostname) !== undefined;
    // SNI and certificate checks use the name, never the address we dial.
    const servername = isLiteral ? connectOptions.servername : connectOptions.servername || hostname.replace(/\.$/, '');

    resolveAllowedAddresses(hostname, allow, lookup).then(
      (addresses) => {
        let index = 0;
        const tryNext = (): void => {
          const address = addresses[index++];
          connect({ ...connectOptions, hostname: address, servername }, (...result) => {
            // Like Happy Eyeballs without the race: a name with ::1 and 127.0.0.1 still reaches
            // a receiver that listens on one of them.
            if (result[0] !== null && index < addresses.length) return tryNext();
            callback(...result);
          });
        };
        tryNext();
      },
      (error: unknown) => callback(coerceError(error), null),
    );
  };
}
