import assert from "node:assert/strict";
import { encodeFrame } from "../../lib/wire/codec.ts";
import { MESSAGE_TYPES } from "../../lib/wire/messages.ts";
import { peekTypeIndex, WireStats } from "../../lib/net/wire_stats.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("peekTypeIndex reads the type a frame body names first, and nothing else", () => {
  const cases: [string, string | undefined][] = [
    ['{"type":"message","id":"x"}', "message"],
    ['{"type":"liveliness_reply","ts":1}', "liveliness_reply"],
    ['{"type":"liveliness","ts":1}', "liveliness"],
    ['{"type":"get_data"}', "get_data"],
    ['{"type":"get_peer_list","version":1}', "get_peer_list"],
    ['{"type":"messages"}', undefined],
    ['{"type":"mess', undefined],
    ['{"id":"x","type":"message"}', undefined],
    ["", undefined],
  ];
  for (const [body, type] of cases) {
    const index = peekTypeIndex(bytes(body), 0);
    assert.equal(index === MESSAGE_TYPES.length ? undefined : MESSAGE_TYPES[index], type, body);
  }
});

Deno.test("WireStats counts frames and bytes by type in both directions, headers included, and refusals by reason", () => {
  const stats = new WireStats();
  const frame = encodeFrame({ type: "graft" }, 1024);
  stats.sent(frame);
  stats.sent(frame);
  stats.received(bytes('{"type":"prune"}'));
  stats.received(bytes("garbage"));
  stats.refused("banned");
  stats.refused("banned");
  assert.deepEqual(stats.snapshot(), {
    sent: { frames: { graft: 2 }, bytes: { graft: 2 * frame.length } },
    received: { frames: { prune: 1, other: 1 }, bytes: { prune: 20, other: 11 } },
    refused: { banned: 2 },
  });
});
