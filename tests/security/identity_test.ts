/** A node's key: kept in its data directory (readable by its owner only) and reused, or fresh each run. */

import assert from "node:assert/strict";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { IdentityError, KEY_FILE } from "../../lib/node/identity.ts";
import { FAST } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

Deno.test("with a data directory a node keeps its id across runs, in a key file only its owner can read", async () => {
  await withTempDir((dir) =>
    Promise.resolve().then(() => {
      const dataDir = `${dir}/seed`;
      const first = new SeedNode({ settings: { ...FAST, dataDir } });
      const again = new SeedNode({ settings: { ...FAST, dataDir } });
      assert.equal(again.id, first.id);
      assert.match(first.id, /^[A-Za-z0-9_-]{43}$/);
      if (Deno.build.os !== "windows") {
        assert.equal(Deno.statSync(`${dataDir}/${KEY_FILE}`).mode! & 0o777, 0o600);
      }
      // Without one, every run is a new node.
      assert.notEqual(new SeedNode({ settings: FAST }).id, new SeedNode({ settings: FAST }).id);
    })
  );
});

Deno.test("a key file that others can read is refused with one line saying what to do", {
  ignore: Deno.build.os === "windows",
}, async () => {
  await withTempDir((dataDir) =>
    Promise.resolve().then(() => {
      new PeerNode({ settings: { ...FAST, dataDir } });
      const path = `${dataDir}/${KEY_FILE}`;
      Deno.chmodSync(path, 0o644);
      assert.throws(() => new PeerNode({ settings: { ...FAST, dataDir } }), (error: Error) => {
        assert.ok(error instanceof IdentityError);
        assert.equal(
          error.message,
          `Node key ${path} is readable by others (mode 644): run chmod 600 ${path}`,
        );
        return true;
      });
    })
  );
});
