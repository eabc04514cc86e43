/** Network addresses written as `host:port`, with IPv6 hosts in brackets: `[::1]:6001`. */

export interface Address {
  readonly host: string;
  readonly port: number;
}

/** Prints an address that {@link makeAddress} built: its text, `host:port`. */
function addressText(this: Address): string {
  return formatAddress(this);
}

/**
 * An address that prints as `host:port`: in template strings, `String()`, `JSON.stringify`
 * and the console. The printing methods are not enumerable, so it still compares equal to
 * a plain `{ host, port }`.
 */
export function makeAddress(host: string, port: number): Address {
  const address = { host, port };
  Object.defineProperties(address, {
    toString: { value: addressText },
    toJSON: { value: addressText },
    [Symbol.for("Deno.customInspect")]: { value: addressText },
  });
  return Object.freeze(address);
}

/** Why an address did not parse; the message reads well after a field name. */
export class AddressError extends Error {
  override name = "AddressError";
}

// The parts of an address, shared by the expression that parses one and the one that only checks.
const IPV6_HOST = String.raw`[0-9a-fA-F:.]+`;
const NAMED_HOST = String.raw`[^:\s\[\]]+`;
const PORT = String.raw`\d{1,5}`;

const BRACKETED = new RegExp(String.raw`^\[(${IPV6_HOST})\]:(.*)$`);
const PLAIN = new RegExp(`^(${NAMED_HOST}):(.*)$`);
const PORT_TEXT = new RegExp(`^${PORT}$`);
/** The shape {@link parseAddress} accepts, in one expression without captures. */
const ADDRESS_SHAPE = new RegExp(String.raw`^(?:\[${IPV6_HOST}\]|${NAMED_HOST}):${PORT}$`);

/**
 * Parses `host:port`. Ports must be 1-65535 unless `allowPortZero` (an ephemeral
 * port for a listener) is set.
 */
export function parseAddress(text: string, { allowPortZero = false } = {}): Address {
  const match = BRACKETED.exec(text) ?? PLAIN.exec(text);
  if (!match) {
    throw new AddressError(`must be "host:port" (IPv6 as "[::1]:6001"), got ${JSON.stringify(text)}`);
  }
  const host = match[1]!;
  const port = parsePort(match[2]!, { allowPortZero });
  return makeAddress(host, port);
}

/**
 * True when {@link parseAddress} would accept `text` (ports 1-65535), without building
 * the address: frames check every address they carry, and a gossiped message carries one.
 */
export function isAddress(text: string): boolean {
  if (!ADDRESS_SHAPE.test(text)) return false;
  let port = 0;
  for (let i = text.lastIndexOf(":") + 1; i < text.length; i++) port = port * 10 + text.charCodeAt(i) - 48;
  return port >= 1 && port <= 65535;
}

/** Parses a port number given as text; throws {@link AddressError} with the received value. */
export function parsePort(text: string, { allowPortZero = false } = {}): number {
  const min = allowPortZero ? 0 : 1;
  const port = PORT_TEXT.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port < min || port > 65535) {
    throw new AddressError(`port must be an integer ${min}-65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

/** Formats an address the way {@link parseAddress} reads it. */
export function formatAddress({ host, port }: Address): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** A host, with a port when one was written: what `--advertise HOST[:PORT]` takes. */
export interface HostPort {
  readonly host: string;
  readonly port: number | undefined;
}

const BRACKETED_HOST = new RegExp(String.raw`^\[(${IPV6_HOST})\]$`);
const PLAIN_HOST = new RegExp(`^${NAMED_HOST}$`);

/**
 * Parses `host`, `host:port`, `[v6]` or `[v6]:port`. Throws {@link AddressError} with
 * the received value.
 */
export function parseHostPort(text: string): HostPort {
  const bare = BRACKETED_HOST.exec(text)?.[1] ?? (PLAIN_HOST.test(text) ? text : undefined);
  if (bare !== undefined) return { host: bare, port: undefined };
  if (!BRACKETED.test(text) && !PLAIN.test(text)) {
    throw new AddressError(`must be "host" or "host:port" (IPv6 in brackets), got ${JSON.stringify(text)}`);
  }
  return parseAddress(text);
}

/** True for the any-address hosts, `0.0.0.0` and `::`: a node may bind them but never announce them. */
export function isWildcardHost(host: string): boolean {
  return host === "0.0.0.0" || host === "::" || host === "[::]";
}

/** True when `host` names this machine's loopback or any-address, so a seed listed with it runs here. */
export function isLocalHost(host: string): boolean {
  return host === "localhost" || host.startsWith("127.") || host === "::1" || isWildcardHost(host);
}

/** Strips the IPv4-mapped IPv6 prefix (`::ffff:127.0.0.1` is `127.0.0.1`) and reads `localhost` as `127.0.0.1`. */
function canonicalHost(host: string): string {
  if (host === "localhost") return "127.0.0.1";
  return host.startsWith("::ffff:") && host.includes(".") ? host.slice(7) : host;
}

/**
 * True when the address a remote claims to listen on (`host:port` text) names the
 * host its connection comes from: a peer may announce only its own host.
 */
export function hostMatches(remote: Address, claimed: string): boolean {
  try {
    return canonicalHost(parseAddress(claimed).host) === canonicalHost(remote.host);
  } catch {
    return false;
  }
}
