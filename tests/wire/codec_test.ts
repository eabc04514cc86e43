/**
 * The wire codec: every message type round-trips through framing and any chunking of
 * the stream, and every kind of bad input is a typed WireError, never another throw.
 */

import assert from "node:assert/strict";
import {
  decodeJson,
  encodeFrame,
  framed,
  FrameDecoder,
  FramePool,
  writeHeader,
} from "../../lib/wire/codec.ts";
import {
  decodeMessage,
  type Message,
  type MessageLimits,
  PROTOCOL_VERSION,
  versionRefusal,
} from "../../lib/wire/messages.ts";
import { WireError, type WireErrorCode } from "../../lib/wire/wire_error.ts";
import { LIMITS, MAX_FRAME_BYTES, mulberry32 } from "../_helpers.ts";

// ---- helpers ----------------------------------------------------------------------

type Random = () => number;

const utf8 = new TextEncoder();
const NODE = "A".repeat(43);
const SIG = "B".repeat(85) + "A";
const NONCE = "n".repeat(22);

function int(random: Random, n: number): number {
  return Math.floor(random() * n);
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[int(random, items.length)]!;
}

function randomId(random: Random): string {
  return Array.from({ length: 32 }, () => "0123456789abcdef"[int(random, 16)]).join("");
}

function randomAddress(random: Random): string {
  const port = 1 + int(random, 65535);
  switch (int(random, 4)) {
    case 0:
      return `${int(random, 256)}.${int(random, 256)}.${int(random, 256)}.${int(random, 256)}:${port}`;
    case 1:
      return `${pick(random, ["[::1]", "[fe80::1]", "[2001:db8::7]", "[::ffff:127.0.0.1]"])}:${port}`;
    case 2:
      return `${pick(random, ["localhost", "node-7.example.org", "seed"])}:${port}`;
    default:
      return `127.0.0.1:${port}`;
  }
}

/** Text that exercises JSON escaping and UTF-8: quotes, controls, multi-byte, astral and lone surrogates. */
function randomText(random: Random, maxLength: number): string {
  const pieces = ['"', "\\", "\n", "\u0000", "\u001f", "é", "€", "中", "😀", "\ud800", "\udfff", "a", " "];
  let text = "";
  const length = int(random, maxLength + 1);
  while (text.length < length) {
    text += random() < 0.5 ? String.fromCharCode(32 + int(random, 95)) : pick(random, pieces);
  }
  return text.slice(0, length);
}

function randomTimestamp(random: Random): number {
  return pick(random, [0, 1, Date.now(), Number.MAX_SAFE_INTEGER, int(random, 2 ** 42), random() * 1e12]);
}

function list<T>(random: Random, max: number, make: (random: Random) => T): T[] {
  return Array.from({ length: int(random, max + 1) }, () => make(random));
}

const MESSAGE_TYPES = [
  "challenge",
  "get_peer_list",
  "peer_list",
  "peer_request",
  "peer_reply",
  "liveliness",
  "liveliness_reply",
  "get_data",
  "message",
  "ihave",
  "graft",
  "prune",
  "death",
  "refused",
] as const;

/** A random valid message of `type`, with its optional fields present or absent at random. */
function randomMessage(random: Random, type = pick(random, MESSAGE_TYPES)): Message {
  switch (type) {
    case "get_peer_list":
      return random() < 0.5
        ? { type, version: 1, addr: randomAddress(random) }
        : { type, version: 2, addr: randomAddress(random), node: NODE, nonce: NONCE, sig: SIG };
    case "peer_list":
      return { type, peers: list(random, LIMITS.maxPeers, randomAddress), node: NODE, sig: SIG };
    case "challenge":
      return { type, version: int(random, 5), nonce: NONCE };
    case "peer_request":
      return { type, version: 1, addr: randomAddress(random) };
    case "peer_reply":
      return random() < 0.5
        ? { type, accepted: true, addr: randomAddress(random), node: NODE, sig: SIG }
        : { type, accepted: false, addr: randomAddress(random), reason: randomText(random, 200) };
    case "liveliness":
    case "liveliness_reply":
      return { type, ts: randomTimestamp(random) };
    case "get_data": {
      const request: Message = { type };
      if (random() < 0.6) request.ids = list(random, 30, randomId);
      if (random() < 0.6) request.have = list(random, 30, randomId);
      return request;
    }
    case "ihave": {
      const ids = [randomId(random), ...list(random, 30, randomId)];
      return { type, ids, hops: ids.map(() => Math.floor(random() * 65_536)) };
    }
    case "graft":
    case "prune":
      return { type };
    case "message":
      return {
        type,
        id: randomId(random),
        hops: 1 + Math.floor(random() * 65_535),
        origin: randomAddress(random),
        originId: NODE,
        content: randomText(random, random() < 0.1 ? 5000 : 300),
        created: Math.floor(randomTimestamp(random)),
      };
    case "death":
      return random() < 0.5
        ? { type, addr: randomAddress(random), reason: "dead", reporter: randomAddress(random) }
        : { type, addr: randomAddress(random), reason: "leaving", reporter: randomAddress(random), sig: SIG };
    case "refused":
      return { type, reason: randomText(random, 200) };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A frame around raw body bytes, bypassing encodeFrame, for bodies encodeFrame would never make. */
function rawFrame(body: Uint8Array | string): Uint8Array {
  return framed(typeof body === "string" ? utf8.encode(body) : body);
}

/** Cuts `bytes` into chunks whose sizes come from `size()`. */
function chunked(bytes: Uint8Array, size: () => number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.max(1, size());
    chunks.push(bytes.subarray(at, at + n));
    at += n;
  }
  return chunks;
}

/**
 * Feeds `chunks` to a copying decoder through one scratch buffer that is overwritten
 * after every push (the decoder must not keep the caller's bytes), then decodes.
 */
function decodeCopies(chunks: Uint8Array[], maxFrameBytes = MAX_FRAME_BYTES, limits = LIMITS): Message[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  const scratch = new Uint8Array(chunks.reduce((n, c) => Math.max(n, c.length), 1));
  const bodies: Uint8Array[] = [];
  for (const chunk of chunks) {
    scratch.set(chunk);
    bodies.push(...decoder.push(scratch.subarray(0, chunk.length)));
    scratch.fill(0xee);
  }
  decoder.end();
  return bodies.map((body) => decodeMessage(body, limits));
}

/** Feeds `chunks` to a decoder in views mode, decoding each body before the next push. */
function decodeViews(chunks: Uint8Array[]): Message[] {
  const decoder = new FrameDecoder(MAX_FRAME_BYTES, { views: true });
  const messages: Message[] = [];
  for (const chunk of chunks) {
    for (const body of decoder.push(chunk)) messages.push(decodeMessage(body, LIMITS));
  }
  decoder.end();
  return messages;
}

/** Asserts that `fn` throws a WireError with `code` (and `field`), and nothing else. */
function assertWireError(fn: () => unknown, code: WireErrorCode, field?: string, note = ""): WireError {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown !== undefined, `expected WireError ${code}, nothing was thrown ${note}`);
  assert.ok(thrown instanceof WireError, `expected WireError ${code}, got ${thrown} ${note}`);
  assert.equal(thrown.code, code, `${thrown.message} ${note}`);
  if (field !== undefined) assert.equal(thrown.field, field, `${thrown.message} ${note}`);
  return thrown;
}

function body(value: unknown): Uint8Array {
  return utf8.encode(typeof value === "string" ? value : JSON.stringify(value));
}

const ID = "0123456789abcdef".repeat(2);
const ADDR = "127.0.0.1:6001";

// ---- round trips ------------------------------------------------------------------

Deno.test("every message type round-trips through encodeFrame, any chunking of the stream, and decodeMessage", () => {
  const seed = 0x5eed_c0de;
  const random = mulberry32(seed);
  const seenTypes = new Set<string>();
  for (let round = 0; round < 300; round++) {
    const note = `(seed ${seed}, round ${round})`;
    // Every type in every tenth round, random ones otherwise.
    const messages = round % 10 === 0
      ? MESSAGE_TYPES.map((type) => randomMessage(random, type))
      : list(random, 12, randomMessage);
    messages.forEach((m) => seenTypes.add(m.type));
    const stream = concat(messages.map((m) => encodeFrame(m, MAX_FRAME_BYTES)));
    const splits: Record<string, Uint8Array[]> = {
      "one chunk": [stream],
      "random chunks": chunked(stream, () => 1 + int(random, 64)),
      "large random chunks": chunked(stream, () => 1 + int(random, 4000)),
    };
    // One byte at a time is slow on big streams: every fifth round.
    if (round % 5 === 0) splits["one byte at a time"] = chunked(stream, () => 1);
    for (const [how, chunks] of Object.entries(splits)) {
      assert.deepEqual(decodeCopies(chunks), messages, `${how} ${note}`);
      assert.deepEqual(decodeViews(chunks), messages, `${how}, views ${note}`);
    }
  }
  assert.deepEqual([...seenTypes].sort(), [...MESSAGE_TYPES].sort());
});

Deno.test("a frame split inside its length prefix and inside its body decodes once complete", () => {
  const message: Message = {
    type: "message",
    id: ID,
    hops: 1,
    origin: ADDR,
    originId: NODE,
    content: "héllo 😀",
    created: 7,
  };
  const frame = encodeFrame(message, MAX_FRAME_BYTES);
  for (let cut = 1; cut < frame.length; cut++) {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    assert.deepEqual(decoder.push(frame.subarray(0, cut)), [], `cut at ${cut}`);
    assert.equal(decoder.pendingBytes, cut);
    const bodies = decoder.push(frame.subarray(cut));
    assert.equal(bodies.length, 1, `cut at ${cut}`);
    assert.deepEqual(decodeMessage(bodies[0]!, LIMITS), message);
    assert.equal(decoder.pendingBytes, 0);
    decoder.end();
  }
});

Deno.test("many frames in one chunk come out in order, with a trailing partial frame kept for later", () => {
  const messages: Message[] = Array.from({ length: 500 }, (_, i) => ({ type: "liveliness", ts: i }));
  const stream = concat(messages.map((m) => encodeFrame(m, MAX_FRAME_BYTES)));
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  const first = decoder.push(stream.subarray(0, stream.length - 3));
  assert.equal(first.length, 499);
  assert.equal(decoder.pendingBytes, encodeFrame(messages[499]!, MAX_FRAME_BYTES).length - 3);
  const rest = decoder.push(stream.subarray(stream.length - 3));
  assert.deepEqual([...first, ...rest].map((b) => decodeMessage(b, LIMITS)), messages);
  decoder.end();
});

Deno.test("an empty chunk changes nothing, and end() after whole frames is quiet", () => {
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  assert.deepEqual(decoder.push(new Uint8Array(0)), []);
  const frame = encodeFrame({ type: "get_peer_list", version: 1, addr: "[::1]:6001" }, MAX_FRAME_BYTES);
  decoder.push(frame.subarray(0, 2));
  assert.deepEqual(decoder.push(new Uint8Array(0)), []);
  assert.equal(decoder.pendingBytes, 2);
  assert.deepEqual(decodeMessage(decoder.push(frame.subarray(2))[0]!, LIMITS), {
    type: "get_peer_list",
    version: 1,
    addr: "[::1]:6001",
  });
  decoder.end();
  assert.equal(decoder.pendingBytes, 0);
});

Deno.test("decodeMessage keeps only the known fields of a message", () => {
  const decoded = decodeMessage(body({ type: "liveliness", ts: 5, extra: "dropped", addr: ADDR }), LIMITS);
  assert.deepEqual(decoded, { type: "liveliness", ts: 5 });
  assert.deepEqual(decodeMessage(body({ type: "get_data" }), LIMITS), { type: "get_data" });
  assert.deepEqual(decodeMessage(body({ type: "get_data", ids: [], have: [ID] }), LIMITS), {
    type: "get_data",
    ids: [],
    have: [ID],
  });
  assert.deepEqual(decodeMessage(body({ type: "graft", ids: [ID] }), LIMITS), { type: "graft" });
  assert.deepEqual(decodeMessage(body({ type: "prune", reason: "x" }), LIMITS), { type: "prune" });
  const gossip = { type: "message", id: ID, hops: 2, origin: ADDR, originId: NODE, content: "", created: 0 };
  assert.deepEqual(decodeMessage(body({ ...gossip, offTree: false }), LIMITS), gossip);
  assert.deepEqual(decodeMessage(body({ ...gossip, offTree: true }), LIMITS), { ...gossip, offTree: true });
});

Deno.test("a frame body of exactly the maximum passes both encoder and decoder; one byte more fails both", () => {
  const base = JSON.stringify({
    type: "message",
    id: ID,
    hops: 1,
    origin: ADDR,
    originId: NODE,
    content: "",
    created: 0,
  });
  const max = 2000;
  const atMax: Message = {
    type: "message",
    id: ID,
    hops: 1,
    origin: ADDR,
    originId: NODE,
    content: "x".repeat(max - base.length),
    created: 0,
  };
  const frame = encodeFrame(atMax, max);
  assert.equal(frame.length, 4 + max);
  assert.deepEqual(decodeCopies([frame], max), [atMax]);
  const overMax = { ...atMax, content: atMax.content + "x" };
  assertWireError(() => encodeFrame(overMax, max), "frame_too_large");
  assertWireError(() => new FrameDecoder(max).push(encodeFrame(overMax, MAX_FRAME_BYTES)), "frame_too_large");
});

// ---- framing errors ---------------------------------------------------------------

Deno.test("a stream that ends inside a frame is truncated, wherever it was cut", () => {
  const frames = [
    encodeFrame({ type: "liveliness", ts: 1 }, MAX_FRAME_BYTES),
    encodeFrame({ type: "peer_request", version: 1, addr: ADDR }, MAX_FRAME_BYTES),
  ];
  const stream = concat(frames);
  const firstEnd = frames[0]!.length;
  for (const cut of [1, 2, 3, 4, 5, firstEnd - 1, firstEnd + 1, firstEnd + 4, stream.length - 1]) {
    const decoder = new FrameDecoder(MAX_FRAME_BYTES);
    const bodies = decoder.push(stream.subarray(0, cut));
    assert.equal(bodies.length, cut >= firstEnd ? 1 : 0, `cut at ${cut}`);
    const error = assertWireError(() => decoder.end(), "truncated", undefined, `cut at ${cut}`);
    assert.match(error.message, new RegExp(`${cut >= firstEnd ? cut - firstEnd : cut} bytes pending`));
    assert.equal(decoder.pendingBytes, 0, "the decoder is empty after the error");
  }
});

Deno.test("FrameDecoder refuses a 4 GiB length prefix before allocating", () => {
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  const error = assertWireError(() => decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), "frame_too_large");
  assert.match(error.message, /4294967295/);
  assert.equal(decoder.pendingBytes, 0);
});

Deno.test("FrameDecoder refuses a huge length prefix the moment its fourth byte arrives", () => {
  // Trickled one byte at a time.
  const decoder = new FrameDecoder(MAX_FRAME_BYTES);
  for (let i = 0; i < 3; i++) assert.deepEqual(decoder.push(Uint8Array.of(0xff)), []);
  assertWireError(() => decoder.push(Uint8Array.of(0xff)), "frame_too_large");
  assert.equal(decoder.pendingBytes, 0);
  // Right behind a whole frame in the same chunk.
  const good = encodeFrame({ type: "liveliness", ts: 3 }, MAX_FRAME_BYTES);
  assertWireError(
    () => new FrameDecoder(MAX_FRAME_BYTES).push(concat([good, Uint8Array.of(0x7f, 0xff, 0xff, 0xff)])),
    "frame_too_large",
  );
  // Completing a frame that was buffered in pieces.
  const buffered = new FrameDecoder(MAX_FRAME_BYTES);
  buffered.push(good.subarray(0, 5));
  assertWireError(
    () => buffered.push(concat([good.subarray(5), Uint8Array.of(0x01, 0x00, 0x00, 0x00)])),
    "frame_too_large",
  );
});

Deno.test("FrameDecoder refuses a frame over a custom small maximum at its prefix", () => {
  const peers = Array.from({ length: 20 }, (_, i) => `127.0.0.1:${i + 1}`);
  const frame = encodeFrame({ type: "peer_list", peers, node: NODE, sig: SIG }, MAX_FRAME_BYTES);
  assert.ok(frame.length - 4 > 100);
  const decoder = new FrameDecoder(100);
  const error = assertWireError(() => decoder.push(frame.subarray(0, 4)), "frame_too_large");
  assert.match(error.message, /maximum of 100/);
  const small = encodeFrame({ type: "liveliness", ts: 1 }, MAX_FRAME_BYTES);
  assert.deepEqual(decodeCopies([small], 100), [{ type: "liveliness", ts: 1 }]);
});

Deno.test("encodeFrame refuses a message bigger than the maximum, counting UTF-8 bytes", () => {
  const huge: Message = {
    type: "message",
    id: ID,
    hops: 1,
    origin: ADDR,
    originId: NODE,
    content: "x".repeat(MAX_FRAME_BYTES),
    created: 0,
  };
  assertWireError(() => encodeFrame(huge, MAX_FRAME_BYTES), "frame_too_large");
  // 600 two-byte characters: about 680 characters of JSON but about 1280 bytes.
  const accented: Message = {
    type: "message",
    id: ID,
    hops: 1,
    origin: ADDR,
    originId: NODE,
    content: "é".repeat(600),
    created: 0,
  };
  assertWireError(() => encodeFrame(accented, 1000), "frame_too_large");
  assert.deepEqual(decodeCopies([encodeFrame(accented, 2000)]), [accented]);
});

// ---- body errors ------------------------------------------------------------------

Deno.test("a body that is not UTF-8 is invalid_utf8, alone or inside a stream", () => {
  const bad = [
    [0xff],
    [0x7b, 0xfe, 0x7d],
    [0xc0, 0xaf], // overlong "/"
    [0xe2, 0x82], // cut multi-byte sequence
    [0xed, 0xa0, 0x80], // encoded surrogate
    [...utf8.encode('{"type":"message","content":"'), 0xc3, 0x28, ...utf8.encode('"}')],
  ];
  for (const bytes of bad) {
    assertWireError(
      () => decodeMessage(Uint8Array.from(bytes), LIMITS),
      "invalid_utf8",
      undefined,
      `${bytes}`,
    );
  }
  const stream = concat([
    encodeFrame({ type: "liveliness", ts: 5 }, MAX_FRAME_BYTES),
    rawFrame(Uint8Array.of(0xc3, 0x28)),
  ]);
  assertWireError(() => decodeCopies(chunked(stream, () => 3)), "invalid_utf8");
});

Deno.test("a body that is not JSON is invalid_json, including an empty frame", () => {
  for (const text of ["", "{not json", "{", '{"type":"liveliness","ts":1,}', "NaN", "undefined", "{'a':1}"]) {
    assertWireError(() => decodeMessage(body(text), LIMITS), "invalid_json", undefined, JSON.stringify(text));
  }
  assertWireError(() => decodeCopies([rawFrame("")]), "invalid_json");
});

Deno.test("JSON that is not an object is not_object: array, number, null, string, boolean", () => {
  for (const text of ["[]", "[1,2]", "42", "-0.5", "null", '"text"', "true"]) {
    assertWireError(() => decodeMessage(body(text), LIMITS), "not_object", undefined, text);
  }
});

Deno.test("an object whose type names no message is unknown_type, naming the type field", () => {
  for (const type of ["gossip", "", "MESSAGE", "toString", "constructor", "__proto__", "x".repeat(1000)]) {
    const error = assertWireError(
      () => decodeMessage(body({ type, addr: ADDR }), LIMITS),
      "unknown_type",
      "type",
      type,
    );
    assert.ok(error.message.length < 200, "a long type is not echoed whole");
  }
  // A type that is not a string at all is a bad field.
  for (const type of [7, null, ["message"], { a: 1 }]) {
    assertWireError(
      () => decodeMessage(body({ type }), LIMITS),
      "invalid_field",
      "type",
      JSON.stringify(type),
    );
  }
  assertWireError(() => decodeMessage(body({}), LIMITS), "invalid_field", "type");
});

Deno.test("schema violations are invalid_field and name the field", () => {
  const long = "h".repeat(300) + ":1";
  const cases: [unknown, string][] = [
    // missing fields
    [{ type: "get_peer_list" }, "addr"],
    [{ type: "peer_request" }, "addr"],
    [{ type: "peer_list" }, "peers"],
    [{ type: "peer_reply", addr: ADDR }, "accepted"],
    [{ type: "peer_reply", accepted: true }, "addr"],
    [{ type: "liveliness" }, "ts"],
    [{ type: "liveliness_reply" }, "ts"],
    [{ type: "message", hops: 1, origin: ADDR, originId: NODE, content: "", created: 0 }, "id"],
    [{ type: "message", id: ID, hops: 1, content: "", created: 0 }, "origin"],
    [{ type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, created: 0 }, "content"],
    [{ type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, content: "" }, "created"],
    [{ type: "message", id: ID, origin: ADDR, originId: NODE, content: "", created: 0 }, "hops"],
    [{ type: "death", addr: ADDR, reporter: ADDR }, "reason"],
    [{ type: "death", reason: "dead", reporter: ADDR }, "addr"],
    [{ type: "death", addr: ADDR, reason: "dead" }, "reporter"],
    [{ type: "refused" }, "reason"],
    // wrong types
    [{ type: "get_peer_list", version: "1", addr: ADDR }, "version"],
    [{ type: "peer_request", version: null, addr: ADDR }, "version"],
    [{ type: "peer_request", version: 1.5, addr: ADDR }, "version"],
    [{ type: "refused", reason: 7 }, "reason"],
    [{ type: "get_peer_list", version: 1, addr: 6001 }, "addr"],
    [{ type: "peer_list", peers: ADDR }, "peers"],
    [{ type: "peer_list", peers: [ADDR, 7] }, "peers[1]"],
    [{ type: "peer_reply", accepted: "yes", addr: ADDR }, "accepted"],
    [{ type: "peer_reply", accepted: false, addr: ADDR, reason: 3 }, "reason"],
    [{ type: "liveliness", ts: "now" }, "ts"],
    [{ type: "liveliness_reply", ts: null }, "ts"],
    [{ type: "get_data", ids: ID }, "ids"],
    [{ type: "get_data", have: 3 }, "have"],
    [{ type: "get_data", ids: [ID, 5] }, "ids"],
    [{ type: "ihave" }, "ids"],
    [{ type: "ihave", ids: [] }, "ids"],
    [{ type: "ihave", ids: ID }, "ids"],
    [{ type: "ihave", ids: [ID, null] }, "ids"],
    [{ type: "ihave", ids: [ID] }, "hops"],
    [{ type: "ihave", ids: [ID, ID], hops: [1] }, "hops"],
    [{ type: "ihave", ids: [ID], hops: [-1] }, "hops"],
    [{ type: "ihave", ids: [ID], hops: [65_536] }, "hops"],
    [{ type: "ihave", ids: [ID], hops: ["1"] }, "hops"],
    [
      { type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, content: ["hi"], created: 0 },
      "content",
    ],
    [
      { type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, content: "", created: "0" },
      "created",
    ],
    [{ type: "message", id: ID, hops: "1", origin: ADDR, originId: NODE, content: "", created: 0 }, "hops"],
    [{ type: "message", id: ID, hops: 1.5, origin: ADDR, originId: NODE, content: "", created: 0 }, "hops"],
    [{
      type: "message",
      id: ID,
      hops: 1,
      origin: ADDR,
      originId: NODE,
      content: "",
      created: 0,
      offTree: "yes",
    }, "offTree"],
    [{ type: "death", addr: ADDR, reason: "bored", reporter: ADDR }, "reason"],
    // out of bounds
    [{ type: "liveliness", ts: -1 }, "ts"],
    [{ type: "peer_list", peers: Array.from({ length: 65 }, (_, i) => `127.0.0.1:${i + 1}`) }, "peers"],
    [{ type: "peer_reply", accepted: false, addr: ADDR, reason: "r".repeat(201) }, "reason"],
    [{ type: "refused", reason: "r".repeat(201) }, "reason"],
    [{ type: "get_peer_list", version: -1, addr: ADDR }, "version"],
    [{ type: "get_data", ids: Array(10_001).fill(ID) }, "ids"],
    [{ type: "ihave", ids: Array(10_001).fill(ID) }, "ids"],
    [{
      type: "message",
      id: ID,
      hops: 1,
      origin: ADDR,
      originId: NODE,
      content: "c".repeat(65_537),
      created: 0,
    }, "content"],
    [{ type: "message", id: ID, hops: 0, origin: ADDR, originId: NODE, content: "", created: 0 }, "hops"],
    [
      { type: "message", id: ID, hops: 65_536, origin: ADDR, originId: NODE, content: "", created: 0 },
      "hops",
    ],
    // bad addresses
    [{ type: "get_peer_list", version: 1, addr: "127.0.0.1" }, "addr"],
    [{ type: "get_peer_list", version: 1, addr: "127.0.0.1:0" }, "addr"],
    [{ type: "get_peer_list", version: 1, addr: "127.0.0.1:65536" }, "addr"],
    [{ type: "get_peer_list", version: 1, addr: "127.0.0.1:http" }, "addr"],
    [{ type: "peer_request", version: 1, addr: "::1:6001" }, "addr"],
    [{ type: "peer_request", version: 1, addr: "[::1]6001" }, "addr"],
    [{ type: "peer_request", version: 1, addr: " 127.0.0.1:6001" }, "addr"],
    [{ type: "peer_request", version: 1, addr: long }, "addr"],
    [{ type: "peer_list", peers: [ADDR, "nope"] }, "peers[1]"],
    [{ type: "message", id: ID, hops: 1, origin: "origin", content: "", created: 0 }, "origin"],
    [{ type: "death", addr: ADDR, reason: "dead", reporter: "127.0.0.1:" }, "reporter"],
    // bad ids
    [{ type: "message", id: "abc", hops: 1, origin: ADDR, originId: NODE, content: "", created: 0 }, "id"],
    [{
      type: "message",
      id: ID.toUpperCase(),
      hops: 1,
      origin: ADDR,
      originId: NODE,
      content: "",
      created: 0,
    }, "id"],
    [{ type: "message", id: ID + "0", hops: 1, origin: ADDR, originId: NODE, content: "", created: 0 }, "id"],
    [
      { type: "message", id: "g".repeat(32), hops: 1, origin: ADDR, originId: NODE, content: "", created: 0 },
      "id",
    ],
    [{ type: "get_data", have: [ID.slice(1)] }, "have"],
    [{ type: "ihave", ids: [ID, ID.slice(1)] }, "ids"],
  ];
  for (const [value, field] of cases) {
    const text = JSON.stringify(value);
    assertWireError(() => decodeMessage(body(text), LIMITS), "invalid_field", field, text.slice(0, 120));
  }
  // Infinity cannot be written by JSON.stringify; a literal 1e400 parses to it.
  assertWireError(
    () => decodeMessage(body('{"type":"liveliness","ts":1e400}'), LIMITS),
    "invalid_field",
    "ts",
  );
});

Deno.test("message limits passed to decodeMessage bound list and content sizes", () => {
  const limits: MessageLimits = { maxPeers: 2, maxIds: 3, maxContentBytes: 10 };
  const ok: Message[] = [
    { type: "peer_list", peers: [ADDR, "[::1]:1"], node: NODE, sig: SIG },
    { type: "get_data", ids: [ID, ID, ID] },
    { type: "ihave", ids: [ID, ID, ID], hops: [1, 2, 3] },
    { type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, content: "0123456789", created: 1 },
  ];
  for (const m of ok) assert.deepEqual(decodeMessage(body(m), limits), m);
  const tooBig: [Message, string][] = [
    [{ type: "peer_list", peers: [ADDR, ADDR, ADDR], node: NODE, sig: SIG }, "peers"],
    [{ type: "get_data", have: [ID, ID, ID, ID] }, "have"],
    [{ type: "ihave", ids: [ID, ID, ID, ID], hops: [1, 1, 1, 1] }, "ids"],
    [
      { type: "message", id: ID, hops: 1, origin: ADDR, originId: NODE, content: "01234567890", created: 1 },
      "content",
    ],
  ];
  for (const [m, field] of tooBig) {
    assertWireError(() => decodeMessage(body(m), limits), "invalid_field", field);
  }
});

Deno.test("a deeply nested field value is invalid_field, not a stack overflow", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);
  assertWireError(
    () => decodeMessage(body(`{"type":"liveliness","ts":${deep}}`), LIMITS),
    "invalid_field",
    "ts",
  );
  assertWireError(() => decodeMessage(body(deep), LIMITS), "not_object");
});

Deno.test("corrupted streams only ever throw WireError", () => {
  const seed = 424242;
  const random = mulberry32(seed);
  const codes = new Set<string>();
  for (let round = 0; round < 400; round++) {
    const stream = concat(list(random, 6, randomMessage).map((m) => encodeFrame(m, MAX_FRAME_BYTES))).slice();
    if (stream.length === 0) continue;
    for (let flips = 1 + int(random, 4); flips > 0; flips--) {
      stream[int(random, stream.length)] = int(random, 256);
    }
    const chunks = chunked(stream, () => 1 + int(random, 200));
    try {
      decodeCopies(chunks, 4096);
    } catch (error) {
      assert.ok(error instanceof WireError, `seed ${seed} round ${round}: ${error}`);
      codes.add(error.code);
    }
  }
  // The corruption reached several layers, not just one.
  assert.ok(codes.size >= 3, [...codes].join(", "));
});

Deno.test("FramePool hands out separate zeroed buffers, and frames encoded in them decode alike", () => {
  const pool = new FramePool(1024);
  const buffers = Array.from({ length: 40 }, (_, i) => pool.take(50 + i));
  for (const [i, buffer] of buffers.entries()) {
    assert.equal(buffer.length, 50 + i);
    assert.ok(buffer.every((b) => b === 0));
    buffer.fill(i + 1);
  }
  // Writing one never touches another, across slabs.
  for (const [i, buffer] of buffers.entries()) assert.ok(buffer.every((b) => b === i + 1));
  const large = pool.take(500); // over an eighth of a slab: a buffer of its own
  assert.equal(large.length, 500);
  assert.equal(large.buffer.byteLength, 500);
  assert.equal(buffers[0]!.buffer.byteLength, 1024);
  const message = { type: "liveliness", ts: 42 } as const;
  const pooled = encodeFrame(message, MAX_FRAME_BYTES, pool);
  assert.deepEqual(pooled, encodeFrame(message, MAX_FRAME_BYTES));
  assert.deepEqual(decodeMessage(pooled.subarray(4), LIMITS), message);
  const accented = {
    type: "peer_reply",
    accepted: false,
    reason: "plein à craquer",
    addr: "127.0.0.1:6000",
  } as const;
  assert.deepEqual(decodeMessage(encodeFrame(accented, MAX_FRAME_BYTES, pool).subarray(4), LIMITS), accented);
});

Deno.test("writeHeader writes the body length big-endian, and framed() puts a body behind it", () => {
  const header = new Uint8Array(4);
  for (
    const [length, bytes] of [[0, [0, 0, 0, 0]], [258, [0, 0, 1, 2]], [0xffffffff, [
      255,
      255,
      255,
      255,
    ]]] as const
  ) {
    writeHeader(header, length);
    assert.deepEqual([...header], bytes, `${length}`);
  }
  const frame = framed(utf8.encode('{"type":"prune"}'));
  assert.deepEqual([...frame.subarray(0, 4)], [0, 0, 0, 16]);
  assert.deepEqual(decodeCopies([frame]), [{ type: "prune" }]);
  // encodeFrame writes the same header as framed() around the same body.
  assert.deepEqual(encodeFrame({ type: "prune" }, MAX_FRAME_BYTES), frame);
});

Deno.test("decodeJson reads any JSON value and leaves schemas to decodeMessage", () => {
  assert.deepEqual(decodeJson(body({ type: "no such type", n: 1 })), { type: "no such type", n: 1 });
  assert.deepEqual(decodeJson(body("[1,2]")), [1, 2]);
  assertWireError(() => decodeJson(Uint8Array.of(0xff)), "invalid_utf8");
  assertWireError(() => decodeJson(body("{")), "invalid_json");
  assertWireError(() => decodeMessage(body({ type: "no such type" }), LIMITS), "unknown_type", "type");
});

Deno.test("parseMessage reads a handshake's version as any whole number, and a missing one as 0", () => {
  for (const type of ["get_peer_list", "peer_request"] as const) {
    for (const version of [0, 1, 3, 65_536]) {
      assert.deepEqual(decodeMessage(body({ type, version, addr: ADDR }), LIMITS), {
        type,
        version,
        addr: ADDR,
      });
    }
    assert.deepEqual(decodeMessage(body({ type, addr: ADDR }), LIMITS), { type, version: 0, addr: ADDR });
    // This version's frames must prove a node id.
    assertWireError(
      () => decodeMessage(body({ type, version: 2, addr: ADDR }), LIMITS),
      "invalid_field",
      "node",
    );
    const proved = { type, version: 2, addr: ADDR, node: NODE, nonce: NONCE, sig: SIG };
    assert.deepEqual(decodeMessage(body(proved), LIMITS), proved);
  }
});

Deno.test("versionRefusal accepts PROTOCOL_VERSION and names both versions for any other", () => {
  assert.equal(PROTOCOL_VERSION, 2);
  assert.equal(versionRefusal(PROTOCOL_VERSION), undefined);
  assert.equal(versionRefusal(1), "protocol version 1 not supported; this node speaks 2");
  assert.equal(versionRefusal(0), "protocol version 0 not supported; this node speaks 2");
});

Deno.test("a catch-up page is asked for with from and closed by page_end with next, both whole numbers from 0", () => {
  const ok: Message[] = [
    { type: "get_data", have: [ID], from: 0 },
    { type: "get_data", from: 12 },
    { type: "page_end", next: 40 },
    { type: "page_end" },
  ];
  for (const m of ok) assert.deepEqual(decodeMessage(body(m), LIMITS), m);
  const bad: [Record<string, unknown>, string][] = [
    [{ type: "get_data", from: -1 }, "from"],
    [{ type: "get_data", from: 1.5 }, "from"],
    [{ type: "get_data", from: "3" }, "from"],
    [{ type: "page_end", next: -2 }, "next"],
    [{ type: "page_end", next: null }, "next"],
  ];
  for (const [m, field] of bad) assertWireError(() => decodeMessage(body(m), LIMITS), "invalid_field", field);
});
