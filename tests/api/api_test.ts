// deno-lint-ignore-file no-explicit-any -- JSON answers are read field by field and checked by the assertions
import assert from "node:assert/strict";
import { ApiServer } from "../../lib/api/api_server.ts";
import { apiToken } from "../../lib/api/auth.ts";
import { peerSource, seedSource } from "../../lib/api/source.ts";
import { TestNetwork, waitFor } from "../_helpers.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

/** Starts an API for each node of `net`: seeds first, then peers. */
async function apis(net: TestNetwork, token = ""): Promise<ApiServer[]> {
  const servers = [
    ...net.seeds.map((s) => new ApiServer({ source: seedSource(s), host: "127.0.0.1", port: 0, token })),
    ...net.peers.map((p) => new ApiServer({ source: peerSource(p), host: "127.0.0.1", port: 0, token })),
  ];
  for (const server of servers) await server.start();
  return servers;
}

async function get(server: ApiServer, path: string, init: RequestInit = {}): Promise<[number, any]> {
  const response = await fetch(server.url + path, init);
  const text = await response.text();
  const type = response.headers.get("content-type") ?? "";
  return [response.status, type.startsWith("application/json") ? JSON.parse(text) : text];
}

Deno.test("the control API of a seed and of peers answers every endpoint; a message posted to one peer reaches every peer", async () => {
  const net = await TestNetwork.start(1, 3);
  const servers = await apis(net);
  const [seedApi, ...peerApis] = servers as [ApiServer, ...ApiServer[]];
  try {
    await waitFor(() => net.isConnected(), { what: "the overlay to connect" });
    const [code, status] = await get(peerApis[0]!, "/status");
    assert.equal(code, 200);
    assert.equal(status.role, "peer");
    assert.equal(status.address, net.peers[0]!.label);
    assert.deepEqual(status.seeds, [net.seeds[0]!.label]);
    assert.ok(status.uptimeMs >= 0 && typeof status.version === "string");
    const [, seedStatus] = await get(seedApi, "/status");
    assert.deepEqual([seedStatus.role, seedStatus.address, seedStatus.peers], [
      "seed",
      net.seeds[0]!.label,
      3,
    ]);

    const [, members] = await get(seedApi, "/members");
    assert.deepEqual(
      members.members.map((m: { addr: string }) => m.addr).sort(),
      net.peers.map((p) => p.label).sort(),
    );
    assert.ok(
      members.members.every((m: { registeredAt: string }) => !Number.isNaN(Date.parse(m.registeredAt))),
    );
    const [, known] = await get(peerApis[1]!, "/members");
    assert.equal(known.role, "peer");
    assert.ok(known.members.length >= 1);

    const [, neighbours] = await get(peerApis[0]!, "/neighbours");
    assert.deepEqual(
      neighbours.neighbours.map((n: { addr: string }) => n.addr).sort(),
      net.peers[0]!.neighbours().map((n) => n.addr).sort(),
    );
    for (const n of neighbours.neighbours) {
      assert.ok(["inbound", "outbound"].includes(n.direction) && ["push", "announce"].includes(n.gossip));
      assert.ok(n.connectedMs >= 0 && n.misses >= 0);
    }

    const [posted, message] = await get(peerApis[0]!, "/messages", {
      method: "POST",
      body: JSON.stringify({ content: "hello over http" }),
    });
    assert.equal(posted, 201);
    assert.equal(message.origin, net.peers[0]!.label);
    assert.equal(message.via, "self");
    await waitFor(async () => {
      for (const api of peerApis) {
        const [, page] = await get(api, "/messages");
        if (!page.messages.some((m: { id: string }) => m.id === message.id)) return false;
      }
      return true;
    }, { what: "the posted message at every peer's API" });
    for (const peer of net.peers) assert.ok(peer.messages().some((m) => m.id === message.id), peer.label);

    // Paging: after the posted message nothing; limit bounds the page.
    const [, after] = await get(peerApis[1]!, `/messages?since=${message.id}`);
    assert.deepEqual(after, { messages: [], next: message.id });
    net.peers[1]!.publish("second");
    const [, one] = await get(peerApis[1]!, `/messages?limit=1`);
    assert.equal(one.messages.length, 1);
    assert.equal(one.next, one.messages[0].id);

    const [metricsCode, metrics] = await get(peerApis[1]!, "/metrics");
    assert.equal(metricsCode, 200);
    const families = parsePrometheus(metrics);
    assert.equal(sampleValue(families, "p2pnet_neighbours"), net.peers[1]!.neighbours().length);
    assert.ok(sampleValue(families, "p2pnet_messages_delivered_total", { via: "push" })! >= 1);
    assert.equal(sampleValue(families, "p2pnet_messages_created_total"), 1);
    assert.ok(sampleValue(families, "p2pnet_frames_received_total", { type: "message" })! >= 1);
    assert.ok(sampleValue(families, "p2pnet_bytes_sent_total", { type: "message" })! > 0);
    assert.ok(sampleValue(families, "p2pnet_delivery_hops_count")! >= 1);
    assert.ok(families.has("p2pnet_probe_rtt_seconds"));
    // The seed draws the links its peers report with their registrations (renewed every few hundred ms here).
    await waitFor(async () => {
      const [, graph] = await get(seedApi, "/network");
      return graph.links.length >= 2;
    }, { what: "the seed to learn the links" });
    const [, graph] = await get(seedApi, "/network");
    assert.deepEqual(
      graph.nodes.filter((n: { role: string }) => n.role === "peer").map((n: { id: string }) => n.id).sort(),
      net.peers.map((p) => p.label).sort(),
    );
    for (const link of graph.links) {
      const peer = net.peers.find((p) => p.label === link.source)!;
      assert.ok(peer.neighbours().some((n) => n.addr === link.target), JSON.stringify(link));
    }
    assert.ok(graph.links.some((l: { push: boolean }) => l.push), "push-tree links are marked");
    const seedFamilies = parsePrometheus((await get(seedApi, "/metrics"))[1]);
    assert.equal(sampleValue(seedFamilies, "p2pnet_peers"), 3);
    assert.equal(sampleValue(seedFamilies, "p2pnet_peers_registered_total"), 3);
    assert.ok(sampleValue(seedFamilies, "p2pnet_frames_received_total", { type: "get_peer_list" })! >= 3);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await net.stop();
  }
});

Deno.test("the event stream sends deliveries and neighbour changes as server-sent events", async () => {
  const net = await TestNetwork.start(1, 2);
  const servers = await apis(net);
  const peerApi = servers[1]!;
  try {
    await waitFor(() => net.isConnected(), { what: "the overlay to connect" });
    const response = await fetch(peerApi.url + "/events");
    assert.equal(response.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    const { id } = net.peers[1]!.publish("streamed");
    while (!text.includes(id)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    assert.match(text, /^: p2pnet events\nretry: 2000\n\n/);
    const event = text.split("\n\n").find((block) => block.includes(id))!;
    assert.match(event, /^event: message\.delivered\ndata: \{/);
    const data = JSON.parse(event.split("\ndata: ")[1]!);
    assert.deepEqual([data.id, data.from, data.peer], [id, net.peers[1]!.label, net.peers[0]!.label]);
    await reader.cancel();
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await net.stop();
  }
});

Deno.test("on a network with a key the API wants the token derived from it: 401 without or with a wrong one", async () => {
  const networkKey = "api test key";
  const net = await TestNetwork.start(1, 1, { networkKey });
  const token = apiToken(networkKey);
  const servers = await apis(net, token);
  try {
    assert.match(token, /^[0-9a-f]{64}$/);
    assert.notEqual(token, apiToken("another key"));
    assert.equal(apiToken(""), "");
    for (const server of servers) {
      for (const path of ["/status", "/members", "/metrics", "/events", "/messages"]) {
        const [none, body] = await get(server, path);
        assert.equal(none, 401, path);
        assert.match(body.error, /missing or wrong token/);
        assert.equal((await get(server, path, { headers: { authorization: "Bearer nope" } }))[0], 401);
        assert.equal(
          (await get(server, path, { headers: { authorization: `Bearer ${apiToken("x")}` } }))[0],
          401,
        );
      }
      const [ok, status] = await get(server, "/status", { headers: { authorization: `Bearer ${token}` } });
      assert.equal(ok, 200);
      assert.ok(status.address);
      assert.equal(
        (await get(server, `/status?token=${token}`))[0],
        200,
        "the page's EventSource passes it in the query",
      );
      assert.equal((await get(server, "/"))[0], 200, "the page itself holds no data");
    }
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await net.stop();
  }
});

Deno.test("bad requests get 4xx JSON errors and the API goes on answering", async () => {
  const net = await TestNetwork.start(1, 1, { maxContentBytes: 100 });
  const servers = await apis(net);
  const [seedApi, peerApi] = servers as [ApiServer, ApiServer];
  const post = (body: BodyInit, headers: Record<string, string> = {}) =>
    get(peerApi, "/messages", { method: "POST", body, headers });
  try {
    const cases: [Promise<[number, any]>, number, RegExp][] = [
      [get(peerApi, "/nowhere"), 404, /no route \/nowhere/],
      [get(peerApi, "/status", { method: "DELETE" }), 405, /method DELETE not allowed on \/status; use GET/],
      [get(seedApi, "/neighbours"), 404, /not served by a seed/],
      [get(seedApi, "/messages", { method: "POST", body: "{}" }), 404, /not served by a seed/],
      [get(peerApi, "/messages?limit=0"), 400, /limit: must be an integer 1-1000, got "0"/],
      [get(peerApi, "/messages?limit=abc"), 400, /limit/],
      [get(peerApi, "/messages?since=xyz"), 400, /since: must be a message id/],
      [get(peerApi, `/messages?since=${"a".repeat(32)}`), 404, /unknown message id/],
      [post("not json"), 400, /body: must be JSON/],
      [post("[1]"), 400, /content: must be a string, got nothing/],
      [post('{"content": 5}'), 400, /content: must be a string, got number/],
      [post("null"), 400, /content: must be a string/],
      [
        post(JSON.stringify({ content: "€".repeat(34) })),
        413,
        /at most 100 bytes of UTF-8 \(maxContentBytes\), got 102/,
      ],
      [post(new Uint8Array([0x7b, 0xff, 0x7d])), 400, /UTF-8/],
      [post("x".repeat(100_000)), 413, /body: must be at most \d+ bytes/],
    ];
    for (const [request, status, error] of cases) {
      const [code, body] = await request;
      assert.equal(code, status, JSON.stringify(body));
      assert.match(body.error, error);
    }
    // A body that streams past the bound without announcing its length.
    const chunks = new ReadableStream<Uint8Array>({
      pull(c) {
        c.enqueue(new Uint8Array(64 * 1024).fill(0x20));
      },
    });
    const [streamed, body] = await post(chunks as unknown as BodyInit);
    assert.equal(streamed, 413, JSON.stringify(body));
    assert.equal((await get(peerApi, "/status"))[0], 200, "still answering");
    assert.equal(net.peers[0]!.messages().length, 0, "nothing was published");
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await net.stop();
  }
});
