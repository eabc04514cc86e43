/** The test vectors of docs/protocol.md are what the code computes. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { deriveSession, importNetworkKey, makeProof, newHello } from "../../lib/wire/secure_channel.ts";
import { encodeFrame } from "../../lib/wire/codec.ts";
import { messageBytes, proofBytes, PublicKeys } from "../../lib/wire/signatures.ts";
import { messageId } from "../../lib/wire/message_id.ts";
import { NodeIdentity } from "../../lib/node/identity.ts";
import { MAX_FRAME_BYTES } from "../_helpers.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

Deno.test("the private network handshake and record 0 match the documented test vectors", () => {
  const key = importNetworkKey("s3cret");
  const initiator = newHello({
    nonce: new Uint8Array(32).fill(0x11),
    dhPrivate: new Uint8Array(32).fill(0x33),
  });
  const responder = newHello({
    nonce: new Uint8Array(32).fill(0x22),
    dhPrivate: new Uint8Array(32).fill(0x44),
  });
  const t = { nonceI: initiator.nonce, nonceR: responder.nonce, dhI: initiator.dh, dhR: responder.dh };
  assert.equal(hex(t.dhI), "7b0d47d93427f8311160781c7c733fd89f88970aef490d8aa0ee19a4cb8a1b14");
  assert.equal(hex(t.dhR), "ff2ee45601ec1b67310c7790404585ae697331eee1c1f8cf2419731c1fff3e6b");
  assert.equal(
    hex(makeProof(key, "initiator", t)),
    "d31b0c32746b46da9b1a3223ad9cb43dd67db6487d659cbad6ae62ac68af73c7",
  );
  assert.equal(
    hex(makeProof(key, "responder", t)),
    "2f5695db2d6e97d6c0ae4cc2f9db485c3e10bc28a2656c1e646a192c33e8c57c",
  );
  const mine = deriveSession(key, "initiator", t, initiator);
  const theirs = deriveSession(key, "responder", t, responder);
  assert.equal(hex(mine.seal.key), "231d2205f5a79e10f0cb2ab863c63cfc00103a9d8bffd5585f268dc5e45b3ab9");
  assert.equal(mine.binding, "JAILbZoFMmj0JsUKavaeVNXgQ4arsliSAcD5iF3YhbI");
  assert.equal(theirs.binding, mine.binding);
  const frame = encodeFrame({ type: "liveliness", ts: 1700000000000 }, MAX_FRAME_BYTES);
  const record = mine.seal.seal(frame);
  assert.equal(
    hex(record),
    "0000003cf2c5cc8fe2070f349520334f11962f62b50a73af99791d1760949055d342841c0ba6b35f0e25de26ae5a57be61302e4eef43ee29aeb85366682b6d1a",
  );
  assert.deepEqual(theirs.open.open(record.subarray(4)), Buffer.from(frame));
});

Deno.test("the node id, message id, message signature and handshake proof match the documented examples", () => {
  const seed = Buffer.concat([
    Buffer.from("302e020100300506032b657004220420", "hex"),
    Buffer.alloc(32, 0x55),
  ]);
  const identity = NodeIdentity.load({ load: () => seed, save: () => {} });
  assert.equal(identity.id, "xoImN8fTEOxXYnvgC6JZ0lN0n0qvZERwz_vlOjX3MkI");
  const fields = {
    originId: identity.id,
    origin: "127.0.0.1:7001",
    created: 1700000000000,
    content: "hello",
  };
  const bytes = messageBytes(fields);
  assert.equal(messageId(bytes), "27f83edb259598607d1569c870ad8e83");
  const sig = identity.sign(bytes);
  assert.equal(sig, "BvKzGolKjdvAK4OlW0Cj07q0Ieh-3MPXSj_e_6RUHLBaL47Y3qSo2QF9XU0BZIn4qgvMKV5K8hDZcsA0ufutAw");
  assert.ok(new PublicKeys(1).verify(identity.id, bytes, sig));
  assert.equal(
    identity.sign(proofBytes("peer_request", "AAAAAAAAAAAAAAAAAAAAAA", "127.0.0.1:7001", "")),
    "ghGFO1yZBm7GB40azRiy_5JUO9dYXV1tkDyhblojnK2W5Ny_MGK9XudT9IJzQ3cvREUL1ht9EVw1QPqLm8IHAw",
  );
  // A lone surrogate is hashed and signed as U+FFFD.
  assert.equal(messageId({ ...fields, content: "\ud800" }), "331887ac90474f356913bec247f45a3b");
  assert.equal(messageId({ ...fields, content: "\ufffd" }), "331887ac90474f356913bec247f45a3b");
});
