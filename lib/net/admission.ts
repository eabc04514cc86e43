/**
 * Whether a node takes an incoming connection, and when it closes one that stopped
 * doing its part: pure functions of the counts and times the endpoint keeps.
 */

/** What the endpoint knows when a connection comes in. */
export interface Arrival {
  /** The remote's host is banned. */
  banned: boolean;
  /** Open connections of the node, inbound and outbound. */
  connections: number;
  maxConnections: number;
  /** Open inbound connections from the remote's host. */
  fromHost: number;
  maxConnectionsPerHost: number;
  /** The remote's host is a loopback address. */
  loopback: boolean;
}

/** Why an incoming connection is refused: a reason for counting, and words for the log. */
export interface Refusal {
  reason: "banned" | "connection_limit" | "host_limit";
  why: string;
}

/**
 * Why an incoming connection is refused, or undefined to take it. Loopback hosts have no
 * cap of their own: on one machine every node of a network connects from them.
 */
export function refusal(arrival: Arrival): Refusal | undefined {
  if (arrival.banned) return { reason: "banned", why: "banned" };
  if (arrival.connections >= arrival.maxConnections) {
    return { reason: "connection_limit", why: `connection limit ${arrival.maxConnections} reached` };
  }
  if (!arrival.loopback && arrival.fromHost >= arrival.maxConnectionsPerHost) {
    const why = `limit of ${arrival.maxConnectionsPerHost} connections from one host reached`;
    return { reason: "host_limit", why };
  }
  return undefined;
}

/** True for an IPv4 loopback address (127.0.0.0/8, also IPv4-mapped) or `::1`. */
export function isLoopback(host: string): boolean {
  return host.startsWith("127.") || host.startsWith("::ffff:127.") || host === "::1";
}

/** A connection as the sweep sees it, times in clock milliseconds. */
export interface ConnectionTimes {
  openedAt: number;
  framesReceived: number;
  /** Bytes of a frame that has started to arrive. */
  pendingBytes: number;
  frameStartedAt: number;
  lastFrameAt: number;
  /** It carries a registration or a link: never idle. */
  kept: boolean;
}

export interface Timeouts {
  handshakeTimeout: number;
  frameTimeout: number;
  idleTimeout: number;
}

/** Why the sweep at `now` closes a connection, or undefined to leave it. */
export function expiry(
  conn: ConnectionTimes,
  now: number,
  t: Timeouts,
): "handshake" | "frame" | "idle" | undefined {
  if (conn.framesReceived === 0 && now - conn.openedAt > t.handshakeTimeout) return "handshake";
  if (conn.pendingBytes > 0 && now - conn.frameStartedAt > t.frameTimeout) return "frame";
  if (!conn.kept && now - conn.lastFrameAt > t.idleTimeout) return "idle";
  return undefined;
}
