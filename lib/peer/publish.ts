/** A message a peer creates: its content checked against the limit, then laid out as gossip. */

import { gossipMessage } from "../wire/gossip_frame.ts";
import type { GossipMessage } from "../wire/messages.ts";
import { messageId } from "../wire/message_id.ts";
import { messageBytes, type SignedFields } from "../wire/signatures.ts";
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
 * The gossip message of `fields` (its `created` rounded to whole milliseconds), one link
 * from its origin once sent, signed with `sign` unless signing is off (undefined). Throws
 * {@link ContentTooLargeError} past `maxContentBytes`.
 */
export function newMessage(
  fields: SignedFields,
  maxContentBytes: number,
  sign: ((bytes: Uint8Array) => string) | undefined,
): GossipMessage {
  const size = utf8Length(fields.content);
  if (size > maxContentBytes) throw new ContentTooLargeError(size, maxContentBytes);
  const signed = { ...fields, created: Math.round(fields.created) };
  const bytes = messageBytes(signed);
  const sig = sign?.(bytes);
  return gossipMessage({ ...signed, id: messageId(bytes), ...(sig === undefined ? {} : { sig }) }, 1);
}
