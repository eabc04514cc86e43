/** The worst-case frame of each message type, as the settings check counts it. */

import assert from "node:assert/strict";
import { encodeFrame, HEADER_BYTES } from "../../lib/wire/codec.ts";
import { largestBodies } from "../../lib/wire/largest_bodies.ts";
import { type Message, type MessageLimits, parseMessage, PROTOCOL_VERSION } from "../../lib/wire/messages.ts";
import { gossipMessage, MAX_HOPS } from "../../lib/wire/gossip_frame.ts";

const LIMITS: MessageLimits = { maxPeers: 3, maxIds: 4, maxContentBytes: 50 };
/** A valid address of 300 characters, nearly all escaped as `\u0001` in JSON. */
const ADDR = "\u0001".repeat(294) + ":65535";
/** A number JSON writes in 24 characters. */
const TS = 0.0000012345678901234567;
const ID = "0123456789abcdef0123456789abcdef";
const REASON = "\u0001".repeat(200);
const ids = (n: number) => Array(n).fill(ID);
const NODE = "A".repeat(43);
const SIG = "B".repeat(85) + "A";
const NONCE = "n".repeat(22);
const version = PROTOCOL_VERSION;

/** The largest valid message of each type within LIMITS. */
const WORST: Message[] = [
  { type: "challenge", version: Number.MAX_SAFE_INTEGER, nonce: NONCE },
  {
    type: "get_peer_list",
    version,
    addr: ADDR,
    neighbours: [ADDR, ADDR, ADDR],
    push: [ADDR, ADDR, ADDR],
    node: NODE,
    nonce: NONCE,
    sig: SIG,
  },
  { type: "peer_request", version, addr: ADDR, node: NODE, nonce: NONCE, sig: SIG },
  { type: "peer_list", peers: [ADDR, ADDR, ADDR], node: NODE, sig: SIG },
  { type: "peer_reply", accepted: false, addr: ADDR, reason: REASON, node: NODE, sig: SIG },
  { type: "refused", reason: REASON },
  { type: "liveliness", ts: TS, nonce: NONCE },
  { type: "liveliness_reply", ts: TS, node: NODE, sig: SIG },
  { type: "get_data", ids: ids(4), have: ids(4), from: Number.MAX_SAFE_INTEGER },
  { type: "page_end", next: Number.MAX_SAFE_INTEGER },
  { type: "ihave", ids: ids(4), hops: Array(4).fill(MAX_HOPS) },
  gossipMessage(
    {
      id: ID,
      origin: ADDR,
      originId: NODE,
      content: "\u0001".repeat(50),
      created: Number.MAX_SAFE_INTEGER,
      sig: SIG,
    },
    MAX_HOPS,
    true,
  ),
  { type: "graft" },
  { type: "prune" },
  { type: "death", addr: ADDR, reason: "leaving", reporter: ADDR, sig: SIG },
];

Deno.test("largestBodies bounds the worst valid message of every type, escaping and all, within a few bytes", () => {
  assert.equal(JSON.stringify(TS).length, 24);
  const bounds = new Map(largestBodies(LIMITS).map((b) => [b.type, b.bytes]));
  assert.deepEqual([...bounds.keys()].sort(), WORST.map((m) => m.type).sort(), "one bound per type");
  for (const message of WORST) {
    const json = JSON.stringify(message);
    assert.deepEqual(parseMessage(JSON.parse(json), LIMITS), message, `${message.type} is valid`);
    const bytes = encodeFrame(message, 1 << 20).length - HEADER_BYTES;
    const bound = bounds.get(message.type)!;
    assert.ok(bytes <= bound, `${message.type}: ${bytes} bytes > bound ${bound}`);
    // The bound counts the port of each address as escaped too: 5 bytes a character too many.
    const addresses = json.split(':65535"').length - 1;
    assert.ok(bound - bytes <= addresses * 30, `${message.type}: bound ${bound} for ${bytes} bytes`);
  }
});

Deno.test("largestBodies grows with each limit: 6 bytes a content byte, an id or an address per list entry", () => {
  const base = new Map(largestBodies(LIMITS).map((b) => [b.type, b]));
  const grown = new Map(
    largestBodies({ maxPeers: 4, maxIds: 5, maxContentBytes: 51 }).map((b) => [b.type, b.bytes]),
  );
  assert.equal(grown.get("message")! - base.get("message")!.bytes, 6);
  assert.equal(base.get("message")!.limit, "maxContentBytes");
  assert.equal(grown.get("get_data")! - base.get("get_data")!.bytes, 2 * 35, "an id more in ids and in have");
  assert.equal(grown.get("ihave")! - base.get("ihave")!.bytes, 35 + 6, "an id and a hop count");
  assert.equal(grown.get("peer_list")! - base.get("peer_list")!.bytes, 1 + 2 + 6 * 300);
  assert.equal(grown.get("death"), base.get("death")!.bytes, "fixed");
});
