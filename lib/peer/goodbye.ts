/** A peer that leaves cleanly says so to its seeds and neighbours before it closes their links. */

import { TUNING } from "../settings/config.ts";
import type { Connection } from "../net/connection.ts";
import type { NodeContext } from "../node/node_core.ts";
import { sleep } from "../util/clock.ts";

/**
 * Sends `death` with reason `leaving` on every seed and neighbour link, signed for each
 * (a goodbye counts only where it was said), and waits until they are written, at most
 * TUNING.leaveFlushMs.
 */
export async function sayGoodbye(
  node: NodeContext,
  seedLinks: Connection[],
  links: Connection[],
): Promise<void> {
  const conns = [...seedLinks, ...links];
  for (const conn of conns) conn.send(node.proofs.goodbye(conn));
  await Promise.race([
    Promise.all(conns.map((conn) => conn.flush())),
    sleep(node.clock, TUNING.leaveFlushMs),
  ]);
  node.log.info("sent leaving notice to {seeds} seeds and {neighbours} neighbours", {
    event: "peer.leaving",
    seeds: seedLinks.length,
    neighbours: links.length,
  });
}
