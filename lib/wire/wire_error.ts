/** What went wrong with bytes that came off the network. */
export type WireErrorCode =
  /** The length prefix announced more than the maximum frame size. */
  | "frame_too_large"
  /** The stream ended inside a frame. */
  | "truncated"
  /** The frame's bytes are not valid UTF-8. */
  | "invalid_utf8"
  /** The frame's text is not valid JSON. */
  | "invalid_json"
  /** The frame's JSON is not an object. */
  | "not_object"
  /** The object's `type` names no p2pnet message. */
  | "unknown_type"
  /** A field of a known message is missing, of the wrong type or out of bounds; `field` names it. */
  | "invalid_field"
  /** The remote sent more frames or bytes per second than the connection allows. */
  | "rate_limited"
  /** One end has a network key and the other has none. */
  | "auth_required"
  /** The network key handshake failed (different keys), or a frame failed authentication. */
  | "auth_failed";

/**
 * The one error the codec and the schemas throw. A node that catches it logs it with
 * the remote address and closes that connection; nothing else is affected.
 */
export class WireError extends Error {
  override name = "WireError";
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** The offending field, for `invalid_field` and `unknown_type`. */
    readonly field?: string,
  ) {
    super(message);
  }
}
