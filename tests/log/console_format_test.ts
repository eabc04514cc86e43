import assert from "node:assert/strict";
import { join } from "node:path";
import { waitFor } from "../_helpers.ts";
import { freePorts, Proc, withTempDir } from "../_process.ts";

Deno.test("--log-format json applies to the console too: one JSON object a line, for containers", async () => {
  await withTempDir(async (dir) => {
    const [port] = freePorts(1);
    const seed = new Proc([
      "seed",
      "--port",
      String(port),
      "--log-format",
      "json",
      "--log-dir",
      join(dir, "logs"),
    ]);
    try {
      await waitFor(() => seed.stdout.includes('"event":"node.listening"'), {
        timeoutMs: 20_000,
        what: "the seed",
      });
    } finally {
      seed.signal("SIGTERM");
      assert.equal(await seed.exit(), 0, seed.stderr);
    }
    const records = seed.stdout.split("\n").filter((line) => line.startsWith("{")).map((line) =>
      JSON.parse(line)
    );
    assert.ok(records.length >= 2, seed.stdout);
    for (const r of records) {
      assert.deepEqual(Object.keys(r).slice(0, 6), ["time", "level", "event", "msg", "role", "addr"]);
      assert.equal(r.addr, `127.0.0.1:${port}`);
    }
    assert.ok(records.some((r) => r.event === "node.stopped"), "the stop record too");
    // The file holds the same records, in a .jsonl file of its own.
    const file = await Deno.readTextFile(join(dir, "logs", "seeds", `seed-127.0.0.1-${port}.jsonl`));
    assert.ok(
      file.split("\n").filter((l) => l !== "").every((l) => JSON.parse(l).addr === `127.0.0.1:${port}`),
    );
  });
});
