import assert from "node:assert/strict";
import { join } from "node:path";
import {
  ConfigError,
  DEFAULT_SETTINGS,
  loadConfigFile,
  parseConfigObject,
  parseFlagValue,
  resolveSettings,
} from "../lib/config.ts";
import { formatDuration, parseDuration } from "../lib/duration.ts";

function configError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected ConfigError, got ${error}`);
    return error.message;
  }
  assert.fail("expected a ConfigError");
}

async function withConfigFile(text: string, body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "p2pnet-config-" });
  const path = join(dir, "config.json");
  await Deno.writeTextFile(path, text);
  try {
    await body(path);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("config errors name the file, the field and the value received", () => {
  const cases: [unknown, string][] = [
    [
      { seeds: ["127.0.0.1:6001", "127.0.0.1:abc"] },
      `config.json: seeds[1]: port must be an integer 1-65535, got "abc"`,
    ],
    [{ seeds: [] }, "config.json: seeds: must list at least one seed, got []"],
    [
      { seeds: ["127.0.0.1:6001", "127.0.0.1:6001"] },
      `config.json: seeds[1]: duplicate seed "127.0.0.1:6001"`,
    ],
    [{ seeds: "127.0.0.1:6001" }, `config.json: seeds: must be a list of "host:port", got "127.0.0.1:6001"`],
    [
      { seeds: ["nohost"] },
      `config.json: seeds[0]: must be "host:port" (IPv6 as "[::1]:6001"), got "nohost"`,
    ],
    [{ degre: 4 }, "config.json: degre: unknown field; known fields are seeds, host"],
    [{ degree: 0 }, "config.json: degree: must be an integer >= 1, got 0"],
    [{ degree: "4" }, `config.json: degree: must be an integer >= 1, got "4"`],
    [
      { livelinessInterval: "soon" },
      `config.json: livelinessInterval: must be a duration such as "250ms", "13s" or "2m"`,
    ],
    [
      { logLevel: "loud" },
      `config.json: logLevel: must be one of trace, debug, info, warning, error, fatal, got "loud"`,
    ],
    [{ logFormat: "xml" }, `config.json: logFormat: must be "text" or "json", got "xml"`],
    [[1, 2], "config.json: must be a JSON object, got an array"],
  ];
  for (const [raw, expected] of cases) {
    const message = configError(() => parseConfigObject(raw, "config.json"));
    assert.ok(message.startsWith(expected), `${message}\n  should start with\n${expected}`);
  }
});

Deno.test("a network key in the config is checked without echoing it", () => {
  const message = configError(() => parseConfigObject({ networkKey: 12345 }, "config.json"));
  assert.equal(message, "config.json: networkKey: must be a string, got a number");
});

Deno.test("config values: durations as text or milliseconds, IPv6 seeds", () => {
  const parsed = parseConfigObject({
    seeds: ["[::1]:6001", "127.0.0.1:6002"],
    livelinessInterval: "2m",
    gossipInterval: 250,
    probeTimeout: "1.5s",
  }, "config.json");
  assert.deepEqual(parsed.seeds, [{ host: "::1", port: 6001 }, { host: "127.0.0.1", port: 6002 }]);
  assert.equal(parsed.livelinessInterval, 120_000);
  assert.equal(parsed.gossipInterval, 250);
  assert.equal(parsed.probeTimeout, 1500);
});

Deno.test("loadConfigFile reports invalid JSON and a missing file by path", async () => {
  await withConfigFile("{ not json", async (path) => {
    await assert.rejects(
      loadConfigFile(path),
      (e: Error) => e instanceof ConfigError && e.message.startsWith(`${path}: invalid JSON`),
    );
  });
  await assert.rejects(
    loadConfigFile("/nonexistent/p2pnet.json"),
    (e: Error) => e instanceof ConfigError && e.message.includes("/nonexistent/p2pnet.json: file not found"),
  );
  assert.deepEqual(await loadConfigFile("/nonexistent/p2pnet.json", { required: false }), {});
});

Deno.test("settings: defaults, then the config file, then flags", async () => {
  await withConfigFile(JSON.stringify({ degree: 6, gossipCount: 2 }), async (path) => {
    const file = await loadConfigFile(path);
    const flags = { degree: parseFlagValue("degree", "--degree", "8") as number };
    const settings = resolveSettings(file, flags);
    assert.equal(settings.degree, 8, "a flag beats the file");
    assert.equal(settings.gossipCount, 2, "the file beats the default");
    assert.equal(settings.livelinessInterval, DEFAULT_SETTINGS.livelinessInterval, "defaults fill the rest");
  });
  assert.equal(
    configError(() => parseFlagValue("degree", "--degree", "x")),
    `--degree: must be an integer >= 1, got "x"`,
  );
  assert.equal(parseFlagValue("livelinessInterval", "--liveliness-interval", "250ms"), 250);
});

Deno.test("a default probe timeout follows a shorter liveliness interval; an explicit longer one is an error", () => {
  assert.equal(resolveSettings({ livelinessInterval: 500 }).probeTimeout, 500);
  const message = configError(() => resolveSettings({ livelinessInterval: 500, probeTimeout: 900 }));
  assert.match(message, /probeTimeout must be <= livelinessInterval: current values 900 > 500/);
});

Deno.test("parseDuration and formatDuration", () => {
  const cases: [string, number | undefined][] = [
    ["250ms", 250],
    ["13s", 13_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1500", 1500],
    ["0.5s", 500],
    ["soon", undefined],
    ["-1s", undefined],
    ["", undefined],
  ];
  for (const [text, ms] of cases) assert.equal(parseDuration(text), ms, text);
  assert.deepEqual([250, 13_000, 120_000, 1500].map(formatDuration), ["250ms", "13s", "2m", "1500ms"]);
});
