/**
 * The live page in a real browser: a demo runs with --web, headless Chromium opens the
 * page, and the graph must show the peers, their links and the push tree, and replay a
 * message's spread. Skipped (with the reason printed) where no Chromium is installed;
 * .ci/run installs Debian's.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";
import { Browser, findChromium } from "./_browser.ts";

/** Width, height and the number of distinct bytes of the pixel data of a PNG. */
function pngFacts(png: Uint8Array): { width: number; height: number; distinct: number } {
  const view = new DataView(png.buffer, png.byteOffset, png.byteLength);
  assert.deepEqual([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], "a PNG signature");
  const chunks: Uint8Array[] = [];
  for (let at = 8; at < png.length;) {
    const length = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    if (type === "IDAT") chunks.push(png.subarray(at + 8, at + 8 + length));
    at += 12 + length;
  }
  const pixels = inflateSync(Buffer.concat(chunks));
  return { width: view.getUint32(16), height: view.getUint32(20), distinct: new Set(pixels).size };
}

interface PageFacts {
  nodes: number;
  peers: number;
  links: number;
  pushLinks: number;
  replayed: number;
  seedCircles: number;
  deadCircles: number;
  pushLines: number;
  messages: number;
  live: string;
  counters: string;
}

const FACTS = `(() => {
  const svg = document.getElementById("graph");
  if (svg === null) return null;
  const d = svg.dataset;
  return {
    nodes: Number(d.nodes), peers: Number(d.peers ?? 0), links: Number(d.links), pushLinks: Number(d.pushLinks),
    replayed: Number(d.replayed ?? 0),
    seedCircles: svg.querySelectorAll("circle.node.seed").length,
    deadCircles: svg.querySelectorAll("circle.node.dead").length,
    pushLines: svg.querySelectorAll("line.link.push").length,
    messages: document.querySelectorAll("#messages li").length,
    live: document.getElementById("live").textContent,
    counters: document.getElementById("counters").textContent,
  };
})()`;

Deno.test("the live page of a demo shows every peer, the links and the push tree in headless Chromium", async () => {
  const binary = await findChromium();
  if (binary === undefined) {
    console.log("skipped: no Chromium found (apt-get install chromium; .ci/run does)");
    return;
  }
  await withTempDir(async (dir) => {
    const [port] = freePorts(1);
    const url = `http://127.0.0.1:${port}`;
    const peers = 8;
    const demo = new Proc([
      "demo",
      "--web",
      `127.0.0.1:${port}`,
      "--peers",
      String(peers),
      "--duration",
      "60s",
      "--rate",
      "5",
      "--churn",
      "--log-dir",
      join(dir, "logs"),
    ]);
    try {
      await waitFor(() => demo.stdout.includes(`live page: ${url}/`), {
        timeoutMs: 30_000,
        what: "the page",
      });
      await waitFor(async () => {
        const graph = await (await fetch(`${url}/network`)).json();
        return graph.nodes.filter((n: { role: string; state: string }) =>
          n.role === "peer" && n.state === "up"
        )
          .length === peers;
      }, { timeoutMs: 30_000, what: "every peer in /network" });
      await using browser = await Browser.open(binary, `${url}/?replay=first`);
      let facts: PageFacts | undefined;
      await waitFor(async () => {
        facts = await browser.evaluate<PageFacts | null>(FACTS) ?? undefined;
        return facts !== undefined && facts.peers === peers && facts.replayed > 1 && facts.live === "live";
      }, { timeoutMs: 30_000, what: "the graph to show every peer and replay a message" });
      // A crash every 3 s (--churn): wait for a dead peer marked on the graph.
      await waitFor(async () => {
        facts = await browser.evaluate<PageFacts | null>(FACTS) ?? undefined;
        return facts !== undefined && facts.deadCircles >= 1;
      }, { timeoutMs: 30_000, what: "a crashed peer marked dead" });
      const f = facts!;
      assert.equal(f.seedCircles, 3);
      assert.ok(f.nodes >= peers + 3, JSON.stringify(f));
      assert.ok(f.links >= peers - 1, `the overlay connects ${peers} peers: ${JSON.stringify(f)}`);
      assert.ok(
        f.pushLinks >= 1 && f.pushLines === f.pushLinks,
        `push-tree links highlighted: ${JSON.stringify(f)}`,
      );
      assert.ok(f.messages >= 1, JSON.stringify(f));
      assert.match(f.counters, /messages published\d+/);

      const png = await browser.screenshot();
      const shot = pngFacts(png);
      assert.deepEqual([shot.width, shot.height], [1280, 800]);
      assert.ok(shot.distinct > 30, `a drawn page, not a blank one: ${shot.distinct} distinct bytes`);
      const keep = Deno.env.get("P2PNET_PAGE_SCREENSHOT");
      if (keep) await Deno.writeFile(keep, png);
    } finally {
      demo.signal("SIGINT");
      await demo.exit(20_000);
    }
  });
});
