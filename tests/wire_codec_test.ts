import assert from "node:assert/strict";
import { mulberry32 } from "./_helpers.ts";
import { decodeBody, encodeFrame, FrameDecoder } from "../lib/codec.ts";
import type { Message } from "../lib/protocol.ts";
import { WireError, type WireErrorCode } from "../lib/wire_error.ts";

function randomMessage(random: () => number): Message {
  const int = (n: number) => Math.floor(random() * n);
  const addr = () => `127.0.0.${int(255)}:${1 + int(65535)}`;
  const id = () => Array.from({ length: 32 }, () => "0123456789abcdef"[int(16)]).join("");
  const text = () => Array.from({ length: int(200) }, () => String.fromCodePoint(32 + int(0x2fff))).join("");
  switch (int(9)) {
    case 0:
      return { type: "get_peer_list", addr: addr() };
    case 1:
      return { type: "peer_list", peers: Array.from({ length: int(64) }, addr) };
    case 2:
      return { type: "peer_request", addr: addr() };
    case 3:
      return random() < 0.5
        ? { type: "peer_reply", accepted: true, addr: addr() }
        : { type: "peer_reply", accepted: false, addr: addr(), reason: text().slice(0, 200) };
    case 4:
      return { type: "liveliness", ts: int(2 ** 42) };
    case 5:
      return { type: "liveliness_reply", ts: int(2 ** 42) };
    case 6:
      return {
        type: "get_data",
        ids: Array.from({ length: int(20) }, id),
        have: Array.from({ length: int(20) }, id),
      };
    case 7:
      return { type: "message", id: id(), origin: addr(), content: text(), created: int(2 ** 42) };
    default:
      return { type: "death", addr: addr(), reason: random() < 0.5 ? "leaving" : "dead", reporter: addr() };
  }
}

/** Decodes a whole byte stream fed in `chunks`. */
function decodeStream(chunks: Uint8Array[], maxFrameBytes?: number): Message[] {
  const decoder = new FrameDecoder(maxFrameBytes);
  const messages: Message[] = [];
  for (const chunk of chunks) for (const body of decoder.push(chunk)) messages.push(decodeBody(body));
  decoder.end();
  return messages;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function frameOf(body: Uint8Array): Uint8Array {
  const frame = new Uint8Array(4 + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, 4);
  return frame;
}

function assertWireError(fn: () => unknown, code: WireErrorCode, field?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof WireError, `expected a WireError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field, error.message);
    return true;
  });
}

Deno.test("random valid messages round-trip through random chunk splits, one byte at a time and all at once", () => {
  const seed = 20261124;
  const random = mulberry32(seed);
  for (let round = 0; round < 100; round++) {
    const messages = Array.from({ length: 1 + Math.floor(random() * 20) }, () => randomMessage(random));
    const stream = concat(messages.map((m) => encodeFrame(m)));
    const splits: Uint8Array[][] = [[stream], Array.from(stream, (b) => Uint8Array.of(b))];
    const random_cuts: Uint8Array[] = [];
    for (let at = 0; at < stream.length;) {
      const size = 1 + Math.floor(random() * 300);
      random_cuts.push(stream.subarray(at, at + size));
      at += size;
    }
    splits.push(random_cuts);
    for (const chunks of splits) {
      assert.deepEqual(decodeStream(chunks), messages, `seed ${seed} round ${round}`);
    }
  }
});

Deno.test("FrameDecoder refuses a 4 GiB length prefix before allocating", () => {
  const decoder = new FrameDecoder();
  assertWireError(() => decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff)), "frame_too_large");
});

Deno.test("FrameDecoder refuses a frame over a configured maximum at its prefix", () => {
  const frame = encodeFrame({
    type: "peer_list",
    peers: Array.from({ length: 60 }, (_, i) => `127.0.0.1:${i + 1}`),
  });
  const decoder = new FrameDecoder(100);
  assertWireError(() => decoder.push(frame.subarray(0, 4)), "frame_too_large");
});

Deno.test("a stream that ends inside a frame is truncated", () => {
  const frame = encodeFrame({ type: "liveliness", ts: 1 });
  for (const cut of [1, 3, 4, frame.length - 1]) {
    const decoder = new FrameDecoder();
    decoder.push(frame.subarray(0, cut));
    assertWireError(() => decoder.end(), "truncated");
  }
});

Deno.test("invalid UTF-8, invalid JSON and non-objects give their typed errors", () => {
  assertWireError(() => decodeBody(Uint8Array.of(0x7b, 0xff, 0xfe, 0x7d)), "invalid_utf8");
  assertWireError(() => decodeBody(new TextEncoder().encode("{not json")), "invalid_json");
  for (const text of ["[1,2]", "42", "null", '"text"']) {
    assertWireError(() => decodeBody(new TextEncoder().encode(text)), "not_object");
  }
  assertWireError(() => decodeBody(new TextEncoder().encode('{"type":"gossip"}')), "unknown_type", "type");
  assertWireError(() => decodeBody(new TextEncoder().encode('{"auth":"hello"}')), "auth_required");
});

Deno.test("schema violations name the offending field", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ type: "get_peer_list" }, "addr"],
    [{ type: "get_peer_list", addr: 12 }, "addr"],
    [{ type: "get_peer_list", addr: "127.0.0.1:99999" }, "addr"],
    [{ type: "get_peer_list", addr: "x".repeat(400) + ":1" }, "addr"],
    [{ type: "peer_list", peers: "127.0.0.1:1" }, "peers"],
    [{ type: "peer_list", peers: Array.from({ length: 65 }, (_, i) => `127.0.0.1:${i + 1}`) }, "peers"],
    [{ type: "peer_list", peers: ["127.0.0.1:1", "nope"] }, "peers[1]"],
    [{ type: "peer_reply", accepted: "yes", addr: "127.0.0.1:1" }, "accepted"],
    [{ type: "peer_reply", accepted: false, addr: "127.0.0.1:1", reason: "x".repeat(201) }, "reason"],
    [{ type: "liveliness", ts: "now" }, "ts"],
    [{ type: "liveliness_reply", ts: -1 }, "ts"],
    [{ type: "get_data", ids: ["not-hex"] }, "ids"],
    [{ type: "get_data", have: 3 }, "have"],
    [{ type: "message", id: "abc", origin: "127.0.0.1:1", content: "", created: 0 }, "id"],
    [
      { type: "message", id: "a".repeat(32), origin: "127.0.0.1:1", content: "x".repeat(65537), created: 0 },
      "content",
    ],
    [{ type: "message", id: "a".repeat(32), origin: "127.0.0.1:1", content: "hi" }, "created"],
    [{ type: "death", addr: "127.0.0.1:1", reason: "bored", reporter: "127.0.0.1:2" }, "reason"],
    [{ type: "death", addr: "127.0.0.1:1", reason: "dead" }, "reporter"],
    [{ type: 7 }, "type"],
  ];
  for (const [value, field] of cases) {
    assertWireError(
      () => decodeBody(new TextEncoder().encode(JSON.stringify(value))),
      "invalid_field",
      field,
    );
  }
});

Deno.test("encodeFrame refuses a message larger than the maximum frame", () => {
  const message: Message = {
    type: "message",
    id: "a".repeat(32),
    origin: "127.0.0.1:1",
    content: "é".repeat(600),
    created: 0,
  };
  assertWireError(() => encodeFrame(message, 1000), "frame_too_large");
  assert.equal(decodeStream([encodeFrame(message, 2000)])[0]!.type, "message");
});

Deno.test("a non-UTF-8 frame inside a stream is refused with its typed error, never an untyped throw", () => {
  const good = encodeFrame({ type: "liveliness", ts: 5 });
  const bad = frameOf(Uint8Array.of(0xc3, 0x28));
  assertWireError(() => decodeStream([concat([good, bad])]), "invalid_utf8");
});
