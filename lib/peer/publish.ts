/** A message a peer creates: its content checked against the limit, then laid out as gossip. */

import { gossipMessage } from "../wire/gossip_frame.ts";
import type { GossipMessage } from "../wire/messages.ts";
import { messageId } from "../wire/message_id.ts";
import { utf8Length } from "../util/utf8.ts";

/** `PeerNode.publish` was given content larger than `maxContentBytes`; nothing was published. */
export class ContentTooLargeError extends RangeError {
  override name = "ContentTooLargeError";
  /** The setting that bounds it. */
  readonly field = "maxContentBytes";

  constructor(readonly bytes: number, readonly limit: number) {
    super(`PeerNode.publish: content must be at most maxContentBytes ${limit} bytes of UTF-8: got ${bytes}`);
  }
}

/**
 * The gossip message `content` from `origin`, created at wall time `created`, one link
 * from its origin once sent. Throws {@link ContentTooLargeError} past `maxContentBytes`.
 */
export function newMessage(
  origin: string,
  content: string,
  created: number,
  maxContentBytes: number,
): GossipMessage {
  const bytes = utf8Length(content);
  if (bytes > maxContentBytes) throw new ContentTooLargeError(bytes, maxContentBytes);
  return gossipMessage({ id: messageId(origin, content), origin, content, created }, 1);
}
