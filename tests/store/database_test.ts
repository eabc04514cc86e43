import assert from "node:assert/strict";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { APPLICATION_ID, DataDirError, recognise, SCHEMA_VERSION } from "../../lib/store/database.ts";
import { NodeDatabase } from "../../lib/store/node_database.ts";
import { withTempDir } from "../_process.ts";

const DB = "p2pnet.db";

/** An SQLite file made by another program, with its tables and (optionally) its own application id. */
function foreignDatabase(path: string, appId = 0): void {
  const db = new DatabaseSync(path);
  db.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('ada');");
  if (appId !== 0) db.exec(`PRAGMA application_id = ${appId}`);
  db.close();
}

function refusal(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    assert.ok(error instanceof DataDirError, `a DataDirError, got ${error}`);
    assert.ok(!error.message.includes("\n"), "one line");
    return error.message;
  }
  assert.fail("expected a DataDirError");
}

Deno.test("NodeDatabase.open creates the directory and p2pnet.db (mode 0600) with p2pnet's application id and schema version", async () => {
  await withTempDir((dir) => {
    const dataDir = join(dir, "a", "b");
    NodeDatabase.open(dataDir, "peer").close();
    const info = Deno.statSync(join(dataDir, DB));
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal(Deno.statSync(dataDir).mode! & 0o777, 0o700);
    const db = new DatabaseSync(join(dataDir, DB), { readOnly: true });
    assert.equal(db.prepare("PRAGMA application_id").get()?.application_id, APPLICATION_ID);
    assert.equal(db.prepare("PRAGMA user_version").get()?.user_version, SCHEMA_VERSION);
    assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
    db.close();
    assert.deepEqual(recognise(dataDir), { ok: true });
    // Opened again: the same database.
    NodeDatabase.open(dataDir, "peer").close();
  });
});

Deno.test("a data directory whose p2pnet.db is not an SQLite database is refused in one line and left as it was", async () => {
  await withTempDir((dir) => {
    const bytes = crypto.getRandomValues(new Uint8Array(8192));
    Deno.writeFileSync(join(dir, DB), bytes, { mode: 0o600 });
    const message = refusal(() => NodeDatabase.open(dir, "peer"));
    assert.match(
      message,
      /^data directory .*: p2pnet\.db is not an SQLite database \(file is not a database\)/,
    );
    assert.deepEqual(Deno.readFileSync(join(dir, DB)), bytes);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [DB]);
    assert.equal(recognise(dir)?.ok, false);
  });
});

Deno.test("an SQLite database of another application is refused untouched, by its tables or its application id", async () => {
  await withTempDir((dir) => {
    for (const [name, appId] of [["plain", 0], ["other", 0x12345678]] as const) {
      const dataDir = join(dir, name);
      Deno.mkdirSync(dataDir);
      foreignDatabase(join(dataDir, DB), appId);
      Deno.chmodSync(join(dataDir, DB), 0o600);
      const before = Deno.readFileSync(join(dataDir, DB));
      const message = refusal(() => NodeDatabase.open(dataDir, "peer"));
      assert.match(message, /p2pnet\.db is an SQLite database of another application/);
      assert.match(message, appId === 0 ? /tables users/ : /application id 0x12345678/);
      assert.deepEqual(Deno.readFileSync(join(dataDir, DB)), before);
      assert.deepEqual([...Deno.readDirSync(dataDir)].map((e) => e.name), [DB]);
      assert.equal(recognise(dataDir)?.ok, false);
    }
  });
});

Deno.test("a damaged p2pnet database is refused, not wiped", async () => {
  await withTempDir((dir) => {
    const db = NodeDatabase.open(dir, "peer");
    for (let i = 0; i < 2000; i++) db.messages.add(`id${i}`, JSON.stringify({ n: i, pad: "x".repeat(200) }));
    db.messages.commit();
    db.close();
    // Scribble over pages past the header.
    const bytes = Deno.readFileSync(join(dir, DB));
    bytes.fill(0x5a, 4096 * 3, 4096 * 40);
    Deno.writeFileSync(join(dir, DB), bytes);
    const message = refusal(() => NodeDatabase.open(dir, "peer"));
    assert.match(message, /p2pnet\.db is damaged/);
    assert.deepEqual(Deno.readFileSync(join(dir, DB)), bytes);
  });
});

Deno.test("a data directory is held by one node at a time, and belongs to one role", async () => {
  await withTempDir((dir) => {
    const first = NodeDatabase.open(dir, "peer");
    try {
      assert.match(refusal(() => NodeDatabase.open(dir, "peer")), /in use by another p2pnet node/);
      assert.deepEqual(recognise(dir), { ok: false, why: "a running node holds it; stop it first" });
    } finally {
      first.close();
    }
    assert.match(
      refusal(() => NodeDatabase.open(dir, "seed")),
      /it holds a peer's data, and this node is a seed/,
    );
  });
});

Deno.test("a database readable by others, or of a newer schema, is refused", async () => {
  await withTempDir((dir) => {
    NodeDatabase.open(dir, "peer").close();
    Deno.chmodSync(join(dir, DB), 0o644);
    assert.match(
      refusal(() => NodeDatabase.open(dir, "peer")),
      /readable by others \(mode 644\): run chmod 600/,
    );
    Deno.chmodSync(join(dir, DB), 0o600);
    const db = new DatabaseSync(join(dir, DB));
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.match(refusal(() => NodeDatabase.open(dir, "peer")), /schema version 2, from a newer p2pnet/);
  });
});

Deno.test("the identity table keeps the node's key across runs, behind the IdentityStore interface", async () => {
  await withTempDir((dir) => {
    const first = NodeDatabase.open(dir, "seed");
    assert.equal(first.identity.load(), undefined);
    const key = crypto.getRandomValues(new Uint8Array(48));
    first.identity.save(key);
    first.close();
    const second = NodeDatabase.open(dir, "seed");
    assert.deepEqual(second.identity.load(), key);
    second.close();
  });
});
