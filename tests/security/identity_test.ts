/** A node's key: kept in its database (readable by its owner only) and reused, or fresh each run. */

import assert from "node:assert/strict";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";
import { FileIdentityStore, IdentityError, KEY_FILE, NodeIdentity } from "../../lib/node/identity.ts";
import { DataDirError } from "../../lib/store/database.ts";
import { FAST } from "../_helpers.ts";
import { withTempDir } from "../_process.ts";

Deno.test("with a data directory a node keeps its id across runs, in a database only its owner can read", async () => {
  await withTempDir(async (dir) => {
    const dataDir = `${dir}/seed`;
    const first = new SeedNode({ settings: { ...FAST, dataDir } });
    await first.stop();
    const again = new SeedNode({ settings: { ...FAST, dataDir } });
    await again.stop();
    assert.equal(again.id, first.id);
    assert.match(first.id, /^[A-Za-z0-9_-]{43}$/);
    if (Deno.build.os !== "windows") assert.equal(Deno.statSync(`${dataDir}/p2pnet.db`).mode! & 0o777, 0o600);
    assert.deepEqual([...Deno.readDirSync(dataDir)].map((e) => e.name), ["p2pnet.db"], "no key file");
    // Without one, every run is a new node.
    assert.notEqual(new SeedNode({ settings: FAST }).id, new SeedNode({ settings: FAST }).id);
  });
});

Deno.test("a key file left by an earlier version is taken over into the database: the node keeps its id", async () => {
  await withTempDir(async (dataDir) => {
    const file = new FileIdentityStore(dataDir);
    const old = NodeIdentity.load(file);
    const peer = new PeerNode({ settings: { ...FAST, dataDir } });
    await peer.stop();
    assert.equal(peer.id, old.id);
    Deno.removeSync(file.path);
    const again = new PeerNode({ settings: { ...FAST, dataDir } });
    await again.stop();
    assert.equal(again.id, old.id, "kept in the database since");
  });
});

Deno.test("a key file or a database that others can read is refused with one line saying what to do", {
  ignore: Deno.build.os === "windows",
}, async () => {
  await withTempDir(async (dataDir) => {
    const path = `${dataDir}/${KEY_FILE}`;
    NodeIdentity.load(new FileIdentityStore(dataDir));
    Deno.chmodSync(path, 0o644);
    assert.throws(() => new PeerNode({ settings: { ...FAST, dataDir } }), (error: Error) => {
      assert.ok(error instanceof IdentityError);
      assert.equal(error.message, `Node key ${path} is readable by others (mode 644): run chmod 600 ${path}`);
      return true;
    });
    Deno.removeSync(path);
    await new PeerNode({ settings: { ...FAST, dataDir } }).stop();
    Deno.chmodSync(`${dataDir}/p2pnet.db`, 0o644);
    assert.throws(() => new PeerNode({ settings: { ...FAST, dataDir } }), (error: Error) => {
      assert.ok(error instanceof DataDirError);
      assert.match(error.message, /p2pnet\.db is readable by others \(mode 644\): run chmod 600 /);
      return true;
    });
  });
});
