/** The record of a message seen for the first time: tools rebuild a message's path from these (`p2pnet trace`). */

import type { NodeContext } from "../node/node_core.ts";
import type { StoredMessage } from "./message_store.ts";

/** Characters of a message's content a delivery record shows. */
const CONTENT_SHOWN = 80;

/** Logs `message.delivered` with where the first copy came from, at what hop and how. */
export function logDelivery(node: NodeContext, message: StoredMessage): void {
  if (!node.info) return;
  const { content } = message;
  node.log.info("new message {id} from {from}: {content}", {
    event: "message.delivered",
    id: message.id,
    origin: message.origin,
    from: message.from ?? "self",
    hops: message.hops,
    via: message.via,
    content: content.length > CONTENT_SHOWN ? content.slice(0, CONTENT_SHOWN) + "…" : content,
  });
}
