/**
 * Gossip frames: built in one key order by gossipMessage(), so that a repeat's id, hop
 * count and off-tree mark can be read from its raw bytes; other layouts are parsed in full.
 */

import assert from "node:assert/strict";
import { HEADER_BYTES } from "../../lib/wire/codec.ts";
import {
  encodeGossip,
  forwardedGossip,
  gossipMessage,
  MAX_HOPS,
  peekGossipHops,
  peekGossipId,
  peekGossipOffTree,
} from "../../lib/wire/gossip_frame.ts";
import { decodeMessage } from "../../lib/wire/messages.ts";
import { LIMITS } from "../_helpers.ts";

const ID = "0123456789abcdef".repeat(2);
const ADDR = "127.0.0.1:6001";
const NODE = "A".repeat(43);
const SIG = "B".repeat(85) + "A";
const FIELDS = { id: ID, origin: ADDR, originId: NODE, content: "x", created: 1, sig: SIG };
const utf8 = new TextEncoder();

/** The body of the frame that passes on a copy held `hops` links from its origin. */
const body = (hops: number, offTree = false) =>
  encodeGossip({ ...FIELDS, hops }, offTree, 1024).subarray(HEADER_BYTES);

Deno.test("gossipMessage lays out its keys in wire order, with the mark right after hops", () => {
  assert.deepEqual(Object.keys(gossipMessage(FIELDS, 3)), [
    "type",
    "id",
    "hops",
    "origin",
    "originId",
    "content",
    "created",
    "sig",
  ]);
  assert.deepEqual(
    Object.keys(gossipMessage(FIELDS, 3, true)),
    ["type", "id", "hops", "offTree", "origin", "originId", "content", "created", "sig"],
  );
  // The parser builds the same layout whatever order the frame had.
  const shuffled = {
    sig: SIG,
    originId: NODE,
    created: 1,
    content: "x",
    offTree: true,
    origin: ADDR,
    hops: 3,
    id: ID,
    type: "message",
  };
  assert.deepEqual(
    Object.keys(decodeMessage(utf8.encode(JSON.stringify(shuffled)), LIMITS)),
    Object.keys(gossipMessage(FIELDS, 3, true)),
  );
});

Deno.test("forwardedGossip counts one link more, never past MAX_HOPS", () => {
  assert.equal(forwardedGossip({ ...FIELDS, hops: 0 }, false).hops, 1);
  assert.equal(forwardedGossip({ ...FIELDS, hops: 41 }, true).hops, 42);
  assert.equal(forwardedGossip({ ...FIELDS, hops: MAX_HOPS }, false).hops, MAX_HOPS);
  assert.deepEqual(decodeMessage(body(6, true), LIMITS), gossipMessage(FIELDS, 7, true));
});

Deno.test("a gossip frame's id and hop count are read from its raw bytes as p2pnet encodes them, and only then", () => {
  assert.equal(peekGossipId(body(11)), ID);
  assert.equal(peekGossipHops(body(11)), 12);
  assert.equal(peekGossipHops(body(MAX_HOPS)), MAX_HOPS);
  // Other layouts are parsed in full instead.
  const reordered = utf8.encode(JSON.stringify({ type: "message", hops: 3, id: ID, origin: ADDR }));
  assert.equal(peekGossipId(reordered), undefined);
  for (const text of [`"hops":0,`, `"hops":70000,`, `"hops":,`, `"hops":"3",`, `"hops":3}`]) {
    const odd = utf8.encode(`{"type":"message","id":"${ID}",${text}"origin":"${ADDR}"}`);
    assert.equal(peekGossipId(odd), ID);
    assert.equal(peekGossipHops(odd), undefined, text);
  }
  assert.equal(peekGossipId(utf8.encode(JSON.stringify({ type: "ihave", ids: [ID], hops: [1] }))), undefined);
});

Deno.test("an off-tree copy is recognised from its raw bytes when the mark follows the hop count, and only then", () => {
  assert.equal(peekGossipOffTree(body(6)), false);
  assert.equal(peekGossipOffTree(body(6, true)), true);
  assert.equal(peekGossipHops(body(6, true)), 7);
  for (
    const text of [
      `"hops":7,"offTree":false,`,
      `"hops":7,"origin":"${ADDR}","offTree":true,`,
      `"hops":x,"offTree":true,`,
    ]
  ) {
    const odd = utf8.encode(`{"type":"message","id":"${ID}",${text}"content":"x"}`);
    assert.equal(peekGossipOffTree(odd), false, text);
  }
});
