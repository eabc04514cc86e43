import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, runP2pnet, withTempDir } from "../_process.ts";

const KEY = { P2PNET_KEY: "client test key" };

Deno.test("real processes: the client commands ask a seed's and peers' control APIs, with the key's token", async () => {
  await withTempDir(async (dir) => {
    const [seedPort, seedApi, api1, api2] = freePorts(4);
    const config = join(dir, "config.json");
    await Deno.writeTextFile(
      config,
      JSON.stringify({
        seeds: [`127.0.0.1:${seedPort}`],
        gossipCount: 0,
        livelinessInterval: "1s",
        logDir: dir,
      }),
    );
    const common = ["--config", config];
    const seed = new Proc(["seed", ...common, "--api", `127.0.0.1:${seedApi}`], { env: KEY });
    const peers: Proc[] = [];
    try {
      await waitFor(() => seed.stdout.includes("control API on"), { timeoutMs: 20_000, what: "the seed" });
      for (const api of [api1, api2]) {
        peers.push(new Proc(["peer", ...common, "--no-console", "--api", `127.0.0.1:${api}`], { env: KEY }));
      }
      await waitFor(() => peers.every((p) => p.stdout.includes(`control API on http://127.0.0.1:`)), {
        timeoutMs: 20_000,
        what: "the peers",
      });
      const client = (args: string[], env: Record<string, string> = KEY) =>
        runP2pnet([...args, ...common], { env });

      const status = await client(["status", "--api", `127.0.0.1:${api1}`]);
      assert.equal(status.code, 0, status.stderr);
      assert.match(status.stdout, /^role +peer$/m);
      assert.match(status.stdout, new RegExp(`^seeds +\\["127\\.0\\.0\\.1:${seedPort}"\\]$`, "m"));

      await waitFor(async () => {
        const members = await client(["members", "--api", `127.0.0.1:${seedApi}`, "--json"]);
        return JSON.parse(members.stdout).members.length === 2;
      }, { timeoutMs: 20_000, what: "two registered peers" });
      const members = await client(["members", "--api", `127.0.0.1:${seedApi}`]);
      assert.match(members.stdout, /^2 registered peers:\n {2}ADDRESS +REGISTERED\n/);

      await waitFor(async () => {
        const n = await client(["neighbours", "--api", `127.0.0.1:${api1}`, "--json"]);
        return JSON.parse(n.stdout).neighbours.length === 1;
      }, { timeoutMs: 20_000, what: "the peers to link" });
      const neighbours = await client(["neighbours", "--api", `127.0.0.1:${api1}`]);
      assert.match(
        neighbours.stdout,
        /^1 neighbour:\n {2}ADDRESS +DIRECTION +CONNECTED +RTT +MISSED +GOSSIP\n/,
      );

      const published = await client(["publish", "--api", `127.0.0.1:${api1}`, "hello from the client"]);
      assert.equal(published.code, 0, published.stderr);
      const id = /^published ([0-9a-f]{32}) from /.exec(published.stdout)?.[1];
      assert.ok(id, published.stdout);
      await waitFor(async () => {
        const page = await client(["messages", "--api", `127.0.0.1:${api2}`, "--json"]);
        return JSON.parse(page.stdout).messages.some((m: { id: string }) => m.id === id);
      }, { timeoutMs: 20_000, what: "the message at the other peer" });
      const messages = await client(["messages", "--api", `127.0.0.1:${api2}`, "--limit", "5"]);
      assert.match(messages.stdout, /^1 message:\n {2}ID +ORIGIN +FIRST SEEN +FROM +HOPS +VIA +CONTENT\n/);
      assert.match(messages.stdout, /hello from the client\nnext page: --since [0-9a-f]{32}\n$/);

      const noKey = await client(["status", "--api", `127.0.0.1:${api1}`], {});
      assert.equal(noKey.code, 1);
      assert.equal(noKey.stdout, "");
      assert.match(
        noKey.stderr,
        /^p2pnet: the control API at 127\.0\.0\.1:\d+ answered 401: missing or wrong token.*; set P2PNET_KEY \(or networkKey\) to the network's key\n$/,
      );
      const wrongKey = await client(["status", "--api", `127.0.0.1:${api1}`], { P2PNET_KEY: "another" });
      assert.equal(wrongKey.code, 1);

      const [closed] = freePorts(1);
      const unreachable = await client(["status", "--api", `127.0.0.1:${closed}`]);
      assert.deepEqual(
        [unreachable.code, unreachable.stderr],
        [
          1,
          `p2pnet: cannot reach the control API at 127.0.0.1:${closed}: connection refused (is the node running with --api?)\n`,
        ],
      );
      const noApi = await client(["status"]);
      assert.equal(noApi.code, 2);
      assert.match(
        noApi.stderr,
        /^p2pnet: status: give the node's control API address with --api HOST:PORT .*; see 'p2pnet status --help'\n$/,
      );
      const badLimit = await client(["messages", "--api", `127.0.0.1:${api2}`, "--limit", "0"]);
      assert.equal(badLimit.code, 1);
      assert.match(badLimit.stderr, /answered 400: limit: must be an integer 1-1000, got "0"/);
      const twoTexts = await client(["publish", "--api", `127.0.0.1:${api1}`, "a", "b"]);
      assert.equal(twoTexts.code, 2);
    } finally {
      for (const p of [...peers, seed]) p.signal("SIGTERM");
      for (const p of [...peers, seed]) await p.exit(15_000);
    }
  });
});
