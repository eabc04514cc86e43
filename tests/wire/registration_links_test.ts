import assert from "node:assert/strict";
import { parseMessage } from "../../lib/wire/messages.ts";
import { WireError } from "../../lib/wire/wire_error.ts";
import { LIMITS } from "../_helpers.ts";

Deno.test("get_peer_list may carry the sender's neighbours and push links, checked as addresses and bounded", () => {
  const base = { type: "get_peer_list", version: 1, addr: "127.0.0.1:6004" };
  assert.deepEqual(parseMessage(base, LIMITS), base, "both fields are optional");
  const links = { ...base, neighbours: ["127.0.0.1:6005", "[::1]:6006"], push: ["127.0.0.1:6005"] };
  assert.deepEqual(parseMessage(links, LIMITS), links);
  const bad: [Record<string, unknown>, RegExp][] = [
    [
      { ...base, neighbours: "127.0.0.1:6005" },
      /get_peer_list\.neighbours: must be a list of at most 64 addresses/,
    ],
    [{ ...base, neighbours: ["nope"] }, /get_peer_list\.neighbours\[0\]: must be a "host:port" string/],
    [{ ...base, push: Array(65).fill("127.0.0.1:1") }, /get_peer_list\.push: must be a list of at most 64/],
  ];
  for (const [frame, message] of bad) {
    assert.throws(
      () => parseMessage(frame, LIMITS),
      (e) => e instanceof WireError && message.test(e.message),
    );
  }
});
