/** Addresses as they go over the wire: `host:port`, and whether a claimed address is on the connection's host. */

import assert from "node:assert/strict";
import { hostMatches, isAddress, makeAddress, parseAddress } from "../../lib/wire/address.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";

Deno.test("isAddress accepts exactly what parseAddress parses", () => {
  const parses = (text: string) => {
    try {
      parseAddress(text);
      return true;
    } catch {
      return false;
    }
  };
  const cases = [
    "127.0.0.1:6001",
    "localhost:1",
    "host:65535",
    "host:65536",
    "host:0",
    "host:00080",
    "host:123456",
    "[::1]:6001",
    "[::ffff:127.0.0.1]:80",
    "[::1]:0",
    "[zz]:80",
    "::1:80",
    "host:",
    ":80",
    "a b:80",
    "host:8a",
    "host:80\n",
    "[::1]:80:",
    "",
  ];
  for (const text of cases) assert.equal(isAddress(text), parses(text), JSON.stringify(text));
  // Random strings over the characters that matter.
  const alphabet = "0123456789:[].af ab\n";
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 20_000; i++) {
    let text = "";
    const length = Math.floor(next() * 12);
    for (let j = 0; j < length; j++) text += alphabet[Math.floor(next() * alphabet.length)];
    assert.equal(isAddress(text), parses(text), JSON.stringify(text));
  }
});

Deno.test("hostMatches accepts only an announced address on the connection's own host", () => {
  const remote = parseAddress("127.0.0.1:5555");
  assert.equal(hostMatches(remote, "127.0.0.1:7000"), true);
  assert.equal(hostMatches(remote, "localhost:7000"), true);
  assert.equal(hostMatches({ host: "::ffff:127.0.0.1", port: 1 }, "127.0.0.1:7000"), true);
  assert.equal(hostMatches(remote, "10.0.0.1:7000"), false);
  assert.equal(hostMatches(remote, "not an address"), false);
});

Deno.test("an Address prints as host:port in templates, String, JSON and the console, and equals a plain object", () => {
  const v6 = parseAddress("[::1]:6001");
  assert.equal(`${v6}`, "[::1]:6001");
  assert.equal(String(parseAddress("127.0.0.1:6002")), "127.0.0.1:6002");
  assert.equal(JSON.stringify({ seeds: [v6] }), '{"seeds":["[::1]:6001"]}');
  assert.equal(Deno.inspect(v6), "[::1]:6001");
  assert.deepEqual(v6, { host: "::1", port: 6001 });
  assert.equal(`${makeAddress("example.org", 80)}`, "example.org:80");
});

Deno.test("a node's address prints as its label", async () => {
  const seed = new SeedNode({ port: 0 });
  await seed.start();
  try {
    assert.equal(`${seed.address}`, seed.label);
  } finally {
    await seed.stop();
  }
});
