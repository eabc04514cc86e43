import assert from "node:assert/strict";
import { join } from "node:path";
import { stripVTControlCharacters } from "node:util";
import type { LogRecord } from "@logtape/logtape";
import {
  closeLogging,
  LogDirError,
  nodeLogger,
  nodeLogPath,
  setupLogging,
  wantsColor,
} from "../../lib/log/logging.ts";
import { textFormatter } from "../../lib/log/formatters.ts";
import { TestNetwork, waitFor, withLogs } from "../_helpers.ts";
import { freePorts, ROOT, runOnTerminal, runP2pnet, withTempDir } from "../_process.ts";

const SEED = "127.0.0.1:6001";
const PEER = "127.0.0.1:6003";

/** Runs `body` with logging set up under a fresh directory, closed afterwards. */
async function withLogDir(
  options: Parameters<typeof setupLogging>[0],
  body: (dir: string) => void | Promise<void>,
): Promise<void> {
  await withTempDir(async (dir) => {
    await setupLogging({ consoleLevel: null, ...options, logDir: dir });
    try {
      await body(dir);
    } finally {
      await closeLogging();
    }
  });
}

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

Deno.test("nodeLogger logs under the role's category with the node's role and addr on every record", async () => {
  const records = await withLogs((records) => {
    nodeLogger("peer", PEER).info("connected to {peer} ({direction})", {
      peer: "127.0.0.1:6004",
      direction: "outbound",
    });
    return Promise.resolve(records);
  });
  assert.equal(records.length, 1);
  const [record] = records as [LogRecord];
  assert.deepEqual(record.category, ["p2pnet", "peer"]);
  assert.deepEqual(record.properties, {
    role: "peer",
    addr: PEER,
    peer: "127.0.0.1:6004",
    direction: "outbound",
  });
});

Deno.test("isEnabledFor on a node's logger follows the levels setupLogging configured", async () => {
  await withLogDir({ fileLevel: "info" }, () => {
    const log = nodeLogger("peer", PEER);
    assert.equal(log.isEnabledFor("debug"), false);
    assert.equal(log.isEnabledFor("info"), true);
  });
  await withLogDir({ fileLevel: "debug" }, () => {
    assert.equal(nodeLogger("seed", SEED).isEnabledFor("debug"), true);
  });
});

Deno.test("every record of a running seed and peer carries its own addr; other nodes go by other keys", async () => {
  await withLogs(async (records) => {
    const net = await TestNetwork.start(1, 2);
    try {
      await waitFor(() => net.isConnected(), { what: "the two peers to connect" });
      const seed = net.seeds[0]!.label;
      const peers = net.peers.map((p) => p.label);
      const ownAddress = (r: LogRecord) => r.category[1] === "seed" ? [seed] : peers;
      for (const r of records) {
        assert.equal(r.properties.role, r.category[1], recordLine(r));
        assert.ok(ownAddress(r).includes(r.properties.addr as string), recordLine(r));
        assert.notEqual(r.properties.peer, r.properties.addr, recordLine(r));
      }
      const registered = records.filter((r) => r.rawMessage === "registered peer {peer}");
      assert.deepEqual(
        registered.map((r) => [r.properties.addr, r.properties.peer]).sort(),
        [
          ...peers.map((p) => [seed, p]),
        ].sort(),
      );
    } finally {
      await net.stop();
    }
  });
});

function recordLine(r: LogRecord): string {
  return `${r.category.join(".")} ${r.message.join("")} ${JSON.stringify(r.properties)}`;
}

Deno.test("setupLogging writes each node's records to its own file, named by role, address and format", async () => {
  await withLogDir({ format: "text" }, async (dir) => {
    nodeLogger("seed", SEED).info("registered peer {peer}", { peer: PEER, peers: 1 });
    nodeLogger("peer", PEER).debug("sent {type} to {remote}", {
      type: "liveliness",
      remote: SEED,
      frame: { ts: 1 },
    });
    nodeLogger("peer", "[::1]:6004").warn("neighbour {peer} is dead: {why}", { peer: PEER, why: "3 misses" });
    await closeLogging();
    assert.equal(nodeLogPath(dir, "seed", SEED, "text"), join(dir, "seeds", "seed-127.0.0.1-6001.log"));
    assert.equal(nodeLogPath(dir, "peer", PEER, "json"), join(dir, "peers", "peer-127.0.0.1-6003.jsonl"));
    assert.deepEqual([...Deno.readDirSync(join(dir, "seeds"))].map((f) => f.name), [
      "seed-127.0.0.1-6001.log",
    ]);
    assert.deepEqual([...Deno.readDirSync(join(dir, "peers"))].map((f) => f.name).sort(), [
      "peer---1-6004.log",
      "peer-127.0.0.1-6003.log",
    ]);
    const seedLines = lines(Deno.readTextFileSync(nodeLogPath(dir, "seed", SEED, "text")));
    const peerLines = lines(Deno.readTextFileSync(nodeLogPath(dir, "peer", PEER, "text")));
    assert.equal(seedLines.length, 1);
    assert.match(
      seedLines[0]!,
      /^\d{4}-\d\d-\d\dT[\d:.]+Z \[INF\] seed 127\.0\.0\.1:6001: registered peer 127\.0\.0\.1:6003 peers=1$/,
    );
    assert.equal(peerLines.length, 1);
    assert.match(
      peerLines[0]!,
      /\[DBG\] peer 127\.0\.0\.1:6003: sent liveliness to 127\.0\.0\.1:6001 frame=\{"ts":1\}$/,
    );
    const ipv6 = Deno.readTextFileSync(nodeLogPath(dir, "peer", "[::1]:6004", "text"));
    assert.match(ipv6, /\[WRN\] peer \[::1\]:6004: neighbour 127\.0\.0\.1:6003 is dead: 3 misses\n$/);
  });
});

Deno.test("JSON logs go to .jsonl files, one object a line with time, level, event, msg, role, addr and fields; text stays in .log", async () => {
  await withTempDir(async (dir) => {
    for (const format of ["text", "json"] as const) {
      await setupLogging({ logDir: dir, consoleLevel: null, format });
      nodeLogger("peer", PEER).info("connected to {peer} ({direction})", {
        event: "neighbour.added",
        peer: SEED,
        direction: "inbound",
      });
      nodeLogger("seed", SEED).warn("closing {remote}: {why}", { remote: PEER, why: "bad\nframe" });
      await closeLogging();
    }
    const text = lines(Deno.readTextFileSync(nodeLogPath(dir, "peer", PEER, "text")));
    assert.equal(text.length, 1);
    assert.ok(!text[0]!.startsWith("{"), text[0]);
    const json = lines(Deno.readTextFileSync(nodeLogPath(dir, "peer", PEER, "json"))).map((l) =>
      JSON.parse(l)
    );
    assert.equal(json.length, 1);
    assert.equal(json[0].addr, PEER);
    assert.equal(json[0].role, "peer");
    assert.equal(json[0].level, "info");
    assert.equal(json[0].msg, `connected to ${SEED} (inbound)`);
    assert.equal(json[0].peer, SEED);
    assert.equal(json[0].event, "neighbour.added");
    assert.ok(!Number.isNaN(Date.parse(json[0].time)), json[0].time);
    assert.deepEqual(Object.keys(json[0]).slice(0, 6), ["time", "level", "event", "msg", "role", "addr"]);
    const seedJson = lines(Deno.readTextFileSync(nodeLogPath(dir, "seed", SEED, "json")));
    assert.equal(seedJson.length, 1, "a newline in a value stays inside its JSON line");
    assert.deepEqual(
      [JSON.parse(seedJson[0]!).level, JSON.parse(seedJson[0]!).addr, JSON.parse(seedJson[0]!).why],
      ["warning", SEED, "bad\nframe"],
    );
  });
});

Deno.test("rotation: with maxFileBytes a node's file is rotated under the cap and keepFiles old files are kept", async () => {
  await withLogDir({ maxFileBytes: 2000, keepFiles: 2 }, async (dir) => {
    const log = nodeLogger("peer", PEER);
    for (let i = 0; i < 200; i++) log.info("record {i}", { i });
    await closeLogging();
    const path = nodeLogPath(dir, "peer", PEER, "text");
    const names = [...Deno.readDirSync(join(dir, "peers"))].map((f) => f.name).sort();
    assert.deepEqual(names, [
      "peer-127.0.0.1-6003.log",
      "peer-127.0.0.1-6003.log.1",
      "peer-127.0.0.1-6003.log.2",
    ]);
    for (const name of names) assert.ok(Deno.statSync(join(dir, "peers", name)).size <= 2000, name);
    const current = lines(Deno.readTextFileSync(path));
    assert.match(current.at(-1)!, /record 199$/, "the newest record is in the current file");
    const all = [`${path}.2`, `${path}.1`, path].flatMap((p) => lines(Deno.readTextFileSync(p)));
    const numbers = all.map((l) => Number(/record (\d+)$/.exec(l)![1]));
    assert.deepEqual(
      numbers,
      numbers.map((_, k) => 200 - numbers.length + k),
      "the kept files hold the newest records in order",
    );
  });
});

Deno.test("without maxFileBytes a node's file is never rotated", async () => {
  await withLogDir({}, async (dir) => {
    const log = nodeLogger("peer", PEER);
    for (let i = 0; i < 200; i++) log.info("record {i}", { i });
    await closeLogging();
    assert.deepEqual([...Deno.readDirSync(join(dir, "peers"))].map((f) => f.name), [
      "peer-127.0.0.1-6003.log",
    ]);
    assert.equal(lines(Deno.readTextFileSync(nodeLogPath(dir, "peer", PEER, "text"))).length, 200);
  });
});

Deno.test("setupLogging refuses a bad rotation option, naming it", async () => {
  await assert.rejects(
    setupLogging({ consoleLevel: null, keepFiles: 0 }),
    new RangeError("Cannot set up logging as 'keepFiles' must be an integer >= 1: current value 0"),
  );
  await assert.rejects(
    setupLogging({ consoleLevel: null, maxFileBytes: -1 }),
    new RangeError("Cannot set up logging as 'maxFileBytes' must be an integer >= 0: current value -1"),
  );
});

Deno.test("wantsColor: colour on a terminal unless NO_COLOR is set to a non-empty value", () => {
  const cases: [string | undefined, boolean, boolean][] = [
    [undefined, true, true],
    ["", true, true],
    ["1", true, false],
    ["0", true, false],
    [undefined, false, false],
    ["1", false, false],
  ];
  for (const [noColor, isTerminal, expected] of cases) {
    assert.equal(wantsColor({ noColor, isTerminal }), expected, `NO_COLOR=${noColor} terminal=${isTerminal}`);
  }
});

Deno.test("console text is coloured by level only when asked, and shows the time alone", () => {
  const record: LogRecord = {
    category: ["p2pnet", "peer"],
    level: "warning",
    message: ["neighbour ", PEER, " is dead"],
    rawMessage: "neighbour {peer} is dead",
    timestamp: Date.UTC(2025, 0, 31, 9, 15, 2, 42),
    properties: { role: "peer", addr: SEED, peer: PEER, misses: 3 },
  };
  assert.equal(
    textFormatter({ timestamp: "time" })(record),
    "09:15:02.042 [WRN] peer 127.0.0.1:6001: neighbour 127.0.0.1:6003 is dead misses=3\n",
  );
  const colored = textFormatter({ color: true, timestamp: "time" })(record);
  assert.ok(colored.includes("\x1b[33mWRN"), JSON.stringify(colored));
  assert.equal(
    stripVTControlCharacters(colored),
    "09:15:02.042 WRN peer 127.0.0.1:6001: neighbour 127.0.0.1:6003 is dead misses=3\n",
  );
});

Deno.test("text lines escape control characters in values, so a remote cannot forge a line or move the cursor", () => {
  const record: LogRecord = {
    category: ["p2pnet", "seed"],
    level: "warning",
    message: ["closing ", PEER, ": ", "bad\n2025 [INF] forged\x1b[2J", ""],
    rawMessage: "closing {remote}: {why}",
    timestamp: 0,
    properties: { role: "seed", addr: SEED, remote: PEER, why: "x", content: "a\x1b[2Jb\x9b" },
  };
  const line = textFormatter()(record);
  assert.equal(line.split("\n").length, 2, JSON.stringify(line));
  assert.ok(!line.includes("\x1b") && !line.includes("\x9b"), JSON.stringify(line));
});

/** Runs a script that logs one info record to the console, under a pseudo-terminal made by `script`. */
async function consoleOnTerminal(noColor: string | undefined): Promise<string | undefined> {
  return await withTempDir(async (dir) => {
    const file = join(dir, "log_one.ts");
    await Deno.writeTextFile(
      file,
      `import { closeLogging, nodeLogger, setupLogging } from ${
        JSON.stringify(join(ROOT, "lib/log/logging.ts"))
      };
await setupLogging({ consoleLevel: "info" });
nodeLogger("peer", "${PEER}").info("hello");
await closeLogging();
`,
    );
    const command = `'${Deno.execPath()}' run -A --config '${join(ROOT, "deno.json")}' '${file}'`;
    const run = await runOnTerminal(command, noColor === undefined ? {} : { NO_COLOR: noColor });
    return run?.output;
  });
}

Deno.test("the console is coloured on a terminal, and plain under NO_COLOR", async () => {
  const [colored, plain] = await Promise.all([consoleOnTerminal(undefined), consoleOnTerminal("1")]);
  if (colored === undefined || plain === undefined) {
    console.log("skipped: no `script` command to make a pseudo-terminal (util-linux)");
    return;
  }
  assert.ok(
    colored.includes("\x1b[32mINF\x1b[0m \x1b[2mpeer\x1b[0m 127.0.0.1:6003: hello"),
    JSON.stringify(colored),
  );
  assert.match(plain, /\[INF\] peer 127\.0\.0\.1:6003: hello/);
  assert.ok(!plain.includes("\x1b"), JSON.stringify(plain));
});

Deno.test("an unwritable log directory is one line on stderr naming it, exit 1, and no node starts", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "some_file"), "not a directory");
    const logDir = join(dir, "some_file", "logs");
    const [port, seedPort] = freePorts(2);
    const runs = await Promise.all([
      runP2pnet(["seed", "--port", String(seedPort), "--log-dir", logDir]),
      runP2pnet(["peer", "--no-console", "--port", String(port), "--log-dir", logDir]),
    ]);
    for (const run of runs) {
      assert.equal(run.code, 1, run.stderr);
      assert.equal(run.stdout, "");
      const stderr = lines(run.stderr);
      assert.equal(stderr.length, 1, run.stderr);
      assert.ok(stderr[0]!.startsWith(`p2pnet: cannot write logs in ${logDir}: Not a directory`), stderr[0]);
    }
  });
});

Deno.test("setupLogging throws a LogDirError naming the directory when it cannot write there", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(join(dir, "some_file"), "not a directory");
    const logDir = join(dir, "some_file", "logs");
    const error = await setupLogging({ logDir, consoleLevel: null }).then(() => undefined, (e) => e);
    assert.ok(error instanceof LogDirError, String(error));
    assert.equal(error.logDir, logDir);
    assert.ok(error.cause instanceof Deno.errors.NotADirectory);
  });
});
