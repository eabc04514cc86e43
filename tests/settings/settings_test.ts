/**
 * Settings: config files and objects, flag values, the precedence defaults < file < flags.
 * Every bad input is a ConfigError whose message names its source and field.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CONFIG_FIELDS,
  ConfigError,
  DEFAULT_SETTINGS,
  loadConfigFile,
  parseConfigObject,
  parseFlagValue,
  resolveSettings,
  type Settings,
} from "../../lib/settings/config.ts";
import { withTempDir } from "../_process.ts";

// ---- helpers ----------------------------------------------------------------------

const FILE = "conf/p2pnet.json";

/** The message of the ConfigError that `fn` throws; fails on any other outcome. */
function configError(fn: () => unknown, note = ""): string {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  assert.ok(thrown instanceof ConfigError, `expected a ConfigError ${note}, got ${thrown ?? "no error"}`);
  return thrown.message;
}

/** The message of the ConfigError that `fn`'s promise rejects with; fails on any other outcome. */
async function configErrorAsync(fn: () => Promise<unknown>): Promise<string> {
  const failure = await fn().then(() => undefined, (error) => ({ error }));
  return configError(() => {
    if (failure) throw failure.error;
  });
}

/** Writes `text` to a config file in a temp directory and runs `body` with its path. */
function withConfigFile(text: string, body: (path: string) => Promise<void>): Promise<void> {
  return withTempDir(async (dir) => {
    const path = join(dir, "config.json");
    await Deno.writeTextFile(path, text);
    await body(path);
  });
}

/** Largest delay a timer can wait: setTimeout fires at once (after 1 ms) beyond it. */
const MAX_TIMER_MS = 2 ** 31 - 1;

// ---- parseConfigObject ------------------------------------------------------------

Deno.test("a config object with every kind of field settles into typed settings", () => {
  const parsed = parseConfigObject({
    seeds: ["127.0.0.1:6001", "[::1]:6001", "seed.example.org:7000"],
    host: "0.0.0.0",
    port: 0,
    logDir: "var/logs",
    logLevel: "debug",
    fileLogLevel: "warning",
    logFormat: "json",
    degree: 3,
    maxInbound: 0,
    overlayInterval: "250ms",
    livelinessInterval: "13s",
    seenTtl: "2m",
    banTime: "1h",
    probeTimeout: 1500,
    gossipInterval: "1.5s",
    gossipCount: 0,
    gossipMode: "flood",
    announceInterval: "1s",
    maxFrameBytes: 8192,
    networkKey: "",
  }, FILE);
  assert.deepEqual(parsed, {
    seeds: [
      { host: "127.0.0.1", port: 6001 },
      { host: "::1", port: 6001 },
      { host: "seed.example.org", port: 7000 },
    ],
    host: "0.0.0.0",
    port: 0,
    logDir: "var/logs",
    logLevel: "debug",
    fileLogLevel: "warning",
    logFormat: "json",
    degree: 3,
    maxInbound: 0,
    overlayInterval: 250,
    livelinessInterval: 13_000,
    seenTtl: 120_000,
    banTime: 3_600_000,
    probeTimeout: 1500,
    gossipInterval: 1500,
    gossipCount: 0,
    gossipMode: "flood",
    announceInterval: 1000,
    maxFrameBytes: 8192,
    networkKey: "",
  });
  assert.deepEqual(parseConfigObject({}, FILE), {});
});

Deno.test("every field a config file may hold is accepted by name", () => {
  const values: Record<string, unknown> = { seeds: ["127.0.0.1:1"], logLevel: "info", fileLogLevel: "info" };
  for (const field of CONFIG_FIELDS) {
    if (field in values) continue;
    const kind = typeof DEFAULT_SETTINGS[field as keyof Settings];
    values[field] = kind === "number"
      ? (field === "port" ? 0 : field === "maxFrameBytes" ? 8192 : 1000)
      : ({ logFormat: "text", gossipMode: "tree", api: "127.0.0.1:0", signMessages: "on" } as Record<
        string,
        string
      >)[field] ??
        "x";
  }
  const parsed = parseConfigObject(values, FILE);
  assert.deepEqual(Object.keys(parsed).sort(), [...CONFIG_FIELDS].sort());
  assert.deepEqual(Object.keys(DEFAULT_SETTINGS).sort(), [...CONFIG_FIELDS].sort());
});

Deno.test("a config that is not a JSON object is refused naming the file", () => {
  const cases: [unknown, string][] = [
    [[], `${FILE}: must be a JSON object, got an array`],
    [[{ seeds: [] }], `${FILE}: must be a JSON object, got an array`],
    [42, `${FILE}: must be a JSON object, got 42`],
    [null, `${FILE}: must be a JSON object, got null`],
    ["seeds", `${FILE}: must be a JSON object, got "seeds"`],
    [true, `${FILE}: must be a JSON object, got true`],
  ];
  for (const [raw, message] of cases) assert.equal(configError(() => parseConfigObject(raw, FILE)), message);
});

Deno.test("bad seeds are refused naming the file, the entry and the value", () => {
  const cases: [unknown, string][] = [
    [[], `${FILE}: seeds: must list at least one seed, got []`],
    ["127.0.0.1:6001", `${FILE}: seeds: must be a list of "host:port", got "127.0.0.1:6001"`],
    [{ a: "127.0.0.1:6001" }, `${FILE}: seeds: must be a list of "host:port", got {"a":"127.0.0.1:6001"}`],
    [["127.0.0.1:6001", 6002], `${FILE}: seeds[1]: must be a string "host:port", got 6002`],
    [
      ["127.0.0.1:6001", "127.0.0.1:abc"],
      `${FILE}: seeds[1]: port must be an integer 1-65535, got "abc"`,
    ],
    [["127.0.0.1:0"], `${FILE}: seeds[0]: port must be an integer 1-65535, got "0"`],
    [["127.0.0.1:65536"], `${FILE}: seeds[0]: port must be an integer 1-65535, got "65536"`],
    [["127.0.0.1:-1"], `${FILE}: seeds[0]: port must be an integer 1-65535, got "-1"`],
    [["127.0.0.1"], `${FILE}: seeds[0]: must be "host:port" (IPv6 as "[::1]:6001"), got "127.0.0.1"`],
    [["::1:6001"], `${FILE}: seeds[0]: must be "host:port" (IPv6 as "[::1]:6001"), got "::1:6001"`],
    [
      ["127.0.0.1:6001", "127.0.0.1:6002", "127.0.0.1:6001"],
      `${FILE}: seeds[2]: duplicate seed "127.0.0.1:6001"`,
    ],
    [["[::1]:6001", "[::1]:6001"], `${FILE}: seeds[1]: duplicate seed "[::1]:6001"`],
  ];
  for (const [seeds, message] of cases) {
    assert.equal(configError(() => parseConfigObject({ seeds }, FILE), JSON.stringify(seeds)), message);
  }
});

Deno.test("an IPv6 seed in brackets is read, and the same port on another host is not a duplicate", () => {
  assert.deepEqual(parseConfigObject({ seeds: ["[::1]:6001", "127.0.0.1:6001"] }, FILE).seeds, [
    { host: "::1", port: 6001 },
    { host: "127.0.0.1", port: 6001 },
  ]);
});

Deno.test("an unknown field such as a typo is refused and the known fields are listed", () => {
  const message = configError(() => parseConfigObject({ degre: 4 }, FILE));
  assert.ok(message.startsWith(`${FILE}: degre: unknown field; known fields are seeds, host, `), message);
  assert.ok(message.includes("degree"), message);
  for (const field of ["Degree", "seed", "log_dir", ""]) {
    const text = configError(() => parseConfigObject({ [field]: 1 }, FILE), field);
    assert.ok(text.startsWith(`${FILE}: ${field}: unknown field`), text);
  }
});

Deno.test("names inherited from Object.prototype are unknown fields, not silently accepted", () => {
  // A plain lookup in the table by key would find Object.prototype members.
  for (const field of ["constructor", "toString", "hasOwnProperty", "valueOf", "isPrototypeOf"]) {
    const message = configError(() => parseConfigObject({ [field]: 1 }, FILE), field);
    assert.ok(message.startsWith(`${FILE}: ${field}: unknown field`), message);
  }
});

Deno.test("wrong-typed and out-of-range fields are refused naming the file, the field and the value", () => {
  const cases: [Record<string, unknown>, string][] = [
    [{ degree: "4" }, `${FILE}: degree: must be an integer >= 1, got "4"`],
    [{ degree: 0 }, `${FILE}: degree: must be an integer >= 1, got 0`],
    [{ degree: 1.5 }, `${FILE}: degree: must be an integer >= 1, got 1.5`],
    [{ degree: null }, `${FILE}: degree: must be an integer >= 1, got null`],
    [{ maxInbound: -1 }, `${FILE}: maxInbound: must be an integer >= 0, got -1`],
    [{ gossipCount: true }, `${FILE}: gossipCount: must be an integer >= 0, got true`],
    [{ maxFrameBytes: "1MB" }, `${FILE}: maxFrameBytes: must be an integer >= 8192, got "1MB"`],
    [{ seenLimit: 2 ** 60 }, `${FILE}: seenLimit: must be an integer >= 1, got ${2 ** 60}`],
    [{ host: "" }, `${FILE}: host: must be a non-empty string, got ""`],
    [{ logDir: 5 }, `${FILE}: logDir: must be a non-empty string, got 5`],
    [
      { logLevel: "loud" },
      `${FILE}: logLevel: must be one of trace, debug, info, warning, error, fatal, got "loud"`,
    ],
    [
      { fileLogLevel: "INFO" },
      `${FILE}: fileLogLevel: must be one of trace, debug, info, warning, error, fatal, got "INFO"`,
    ],
    [{ logFormat: "xml" }, `${FILE}: logFormat: must be "text" or "json", got "xml"`],
    [{ gossipMode: "gossip" }, `${FILE}: gossipMode: must be "tree" or "flood", got "gossip"`],
    [{ port: 70000 }, `${FILE}: port: port must be an integer 0-65535, got "70000"`],
    [{ port: -1 }, `${FILE}: port: port must be an integer 0-65535, got "-1"`],
    [{ port: 80.5 }, `${FILE}: port: port must be an integer 0-65535, got "80.5"`],
    // The key is never echoed, even when it is of the wrong type.
    [{ networkKey: 12345 }, `${FILE}: networkKey: must be a string, got a number`],
  ];
  for (const [raw, message] of cases) {
    assert.equal(configError(() => parseConfigObject(raw, FILE), JSON.stringify(raw)), message);
  }
});

Deno.test("durations in a file may be text with a unit or a number of milliseconds", () => {
  const cases: [unknown, number][] = [
    ["250ms", 250],
    ["13s", 13_000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["1.5s", 1500],
    ["700", 700],
    [" 5s ", 5000],
    [250, 250],
    [13_000, 13_000],
    [2.6, 3],
  ];
  for (const [value, ms] of cases) {
    assert.deepEqual(parseConfigObject({ livelinessInterval: value }, FILE), { livelinessInterval: ms });
  }
  const prefix =
    `${FILE}: connectTimeout: must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got`;
  for (const value of ["soon", "13 s", "13S", "-1s", "0ms", "0", "", "1e3", 0, -5, true, null, ["1s"]]) {
    assert.equal(
      configError(() => parseConfigObject({ connectTimeout: value }, FILE), JSON.stringify(value)),
      `${prefix} ${JSON.stringify(value)}`,
    );
  }
});

Deno.test("a duration that rounds to 0 ms is refused, whether written as text or as a number", () => {
  assert.match(
    configError(() => parseConfigObject({ livelinessInterval: "0.4ms" }, FILE)),
    /must be a duration/,
  );
  // Checked after rounding: 0.4 would otherwise pass and settle to 0.
  const message = configError(() => parseConfigObject({ livelinessInterval: 0.4 }, FILE), "0.4");
  assert.match(message, new RegExp(`^${FILE}: livelinessInterval: must be a duration`));
});

Deno.test("a duration longer than a timer can wait (2^31-1 ms, about 24.8 days) is refused", () => {
  // setTimeout fires after 1 ms beyond this, so "600h" would probe and time out at once.
  assert.deepEqual(parseConfigObject({ livelinessInterval: MAX_TIMER_MS }, FILE), {
    livelinessInterval: MAX_TIMER_MS,
  });
  for (
    const [field, value] of [["livelinessInterval", "600h"], ["connectTimeout", MAX_TIMER_MS + 1]] as const
  ) {
    const message = configError(() => parseConfigObject({ [field]: value }, FILE), `${field} ${value}`);
    assert.ok(message.startsWith(`${FILE}: ${field}: `), message);
  }
});

// ---- loadConfigFile ---------------------------------------------------------------

Deno.test("loadConfigFile reads a valid file with an IPv6 seed and mixed durations", async () => {
  const text = JSON.stringify({
    seeds: ["127.0.0.1:6001", "[::1]:6001"],
    livelinessInterval: "13s",
    probeTimeout: "250ms",
    overlayInterval: 2000,
    banTime: "2m",
  });
  await withConfigFile(text, async (path) => {
    assert.deepEqual(await loadConfigFile(path), {
      seeds: [{ host: "127.0.0.1", port: 6001 }, { host: "::1", port: 6001 }],
      livelinessInterval: 13_000,
      probeTimeout: 250,
      overlayInterval: 2000,
      banTime: 120_000,
    });
  });
});

Deno.test("loadConfigFile errors are ConfigErrors that name the file and the field", async () => {
  const cases: [string, (path: string) => string | RegExp][] = [
    ["{ nope", (path) => new RegExp(`^${path}: invalid JSON: `)],
    ["", (path) => new RegExp(`^${path}: invalid JSON: `)],
    ['{"degree": 4,}', (path) => new RegExp(`^${path}: invalid JSON: `)],
    ["[1, 2]", (path) => `${path}: must be a JSON object, got an array`],
    ["null", (path) => `${path}: must be a JSON object, got null`],
    ['{"seeds": []}', (path) => `${path}: seeds: must list at least one seed, got []`],
    [
      '{"seeds": ["127.0.0.1:6001", "127.0.0.1:6001"]}',
      (path) => `${path}: seeds[1]: duplicate seed "127.0.0.1:6001"`,
    ],
    [
      '{"seeds": ["127.0.0.1:6001", "127.0.0.1:abc"]}',
      (path) => `${path}: seeds[1]: port must be an integer 1-65535, got "abc"`,
    ],
    ['{"degre": 4}', (path) => new RegExp(`^${path}: degre: unknown field; known fields are `)],
    ['{"degree": "four"}', (path) => `${path}: degree: must be an integer >= 1, got "four"`],
    [
      '{"livelinessInterval": "13 seconds"}',
      (path) => new RegExp(`^${path}: livelinessInterval: must be a duration`),
    ],
    ['{"logFormat": 1}', (path) => `${path}: logFormat: must be "text" or "json", got 1`],
  ];
  for (const [text, expected] of cases) {
    await withConfigFile(text, async (path) => {
      const message = await configErrorAsync(() => loadConfigFile(path));
      const want = expected(path);
      if (typeof want === "string") assert.equal(message, want, text);
      else assert.match(message, want, text);
    });
  }
});

Deno.test("a missing config file is an error only when required, and a directory cannot be read", async () => {
  await withTempDir(async (dir) => {
    const missing = join(dir, "absent.json");
    assert.equal(
      await configErrorAsync(() => loadConfigFile(missing)),
      `${missing}: file not found; pass --config FILE or create it (see README)`,
    );
    assert.deepEqual(await loadConfigFile(missing, { required: false }), {});
    assert.match(await configErrorAsync(() => loadConfigFile(dir)), new RegExp(`^${dir}: cannot read: `));
  });
});

// ---- flags and precedence ---------------------------------------------------------

Deno.test("parseFlagValue settles flag text and names the flag in its errors", () => {
  const ok: [Parameters<typeof parseFlagValue>, unknown][] = [
    [["degree", "--degree", "4"], 4],
    [["gossipCount", "--gossip-count", "0"], 0],
    [["port", "--port", "0"], 0],
    [["port", "--port", "65535"], 65535],
    [["livelinessInterval", "--liveliness-interval", "2s"], 2000],
    [["livelinessInterval", "--liveliness-interval", "1500"], 1500],
    [["gossipInterval", "--gossip-interval", "2m"], 120_000],
    [["logLevel", "--log-level", "debug"], "debug"],
    [["logFormat", "--log-format", "json"], "json"],
    [["host", "--host", "::1"], "::1"],
    [["logDir", "--log-dir", "/tmp/p2p logs"], "/tmp/p2p logs"],
  ];
  for (const [args, value] of ok) assert.equal(parseFlagValue(...args), value, args.join(" "));
  const bad: [Parameters<typeof parseFlagValue>, string][] = [
    [["degree", "--degree", "x"], `--degree: must be an integer >= 1, got "x"`],
    [["degree", "--degree", "0"], `--degree: must be an integer >= 1, got "0"`],
    [["degree", "--degree", "-1"], `--degree: must be an integer >= 1, got "-1"`],
    [["degree", "--degree", "1e3"], `--degree: must be an integer >= 1, got "1e3"`],
    [["degree", "--degree", "2.5"], `--degree: must be an integer >= 1, got "2.5"`],
    [["gossipCount", "--gossip-count", ""], `--gossip-count: must be an integer >= 0, got ""`],
    [["port", "--port", "99999"], `--port: port must be an integer 0-65535, got "99999"`],
    [["host", "--host", ""], `--host: must be a non-empty string, got ""`],
    [
      ["logLevel", "--log-level", "verbose"],
      `--log-level: must be one of trace, debug, info, warning, error, fatal, got "verbose"`,
    ],
    [
      ["livelinessInterval", "--liveliness-interval", "soon"],
      `--liveliness-interval: must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got "soon"`,
    ],
  ];
  for (const [args, message] of bad) assert.equal(configError(() => parseFlagValue(...args)), message);
});

Deno.test("resolveSettings with no layers gives the defaults, in a copy", () => {
  const settings = resolveSettings();
  assert.deepEqual(settings, DEFAULT_SETTINGS);
  settings.seeds.push({ host: "10.0.0.1", port: 1 });
  settings.degree = 99;
  assert.equal(DEFAULT_SETTINGS.seeds.length, 3);
  assert.equal(DEFAULT_SETTINGS.degree, 4);
  assert.ok(Object.isFrozen(DEFAULT_SETTINGS));
});

Deno.test("precedence is defaults < file < flags, field by field", async () => {
  const text = JSON.stringify({ degree: 6, gossipCount: 3, logDir: "file-logs", livelinessInterval: "20s" });
  await withConfigFile(text, async (path) => {
    const file = await loadConfigFile(path);
    const flags: Partial<Settings> = {
      degree: parseFlagValue("degree", "--degree", "8") as number,
      logLevel: parseFlagValue("logLevel", "--log-level", "warning") as Settings["logLevel"],
      gossipCount: undefined, // an absent flag does not erase the file's value
    };
    const settings = resolveSettings(file, flags);
    assert.equal(settings.degree, 8, "flag over file");
    assert.equal(settings.logLevel, "warning", "flag over default");
    assert.equal(settings.gossipCount, 3, "file over default");
    assert.equal(settings.logDir, "file-logs", "file over default");
    assert.equal(settings.livelinessInterval, 20_000);
    assert.equal(settings.maxInbound, DEFAULT_SETTINGS.maxInbound, "default where nobody sets it");
    assert.deepEqual(settings.seeds, DEFAULT_SETTINGS.seeds);
    assert.equal(resolveSettings(flags, file).degree, 6, "the later layer wins");
  });
});

Deno.test("a probe timeout left at its default follows a shorter liveliness interval down", () => {
  assert.equal(DEFAULT_SETTINGS.probeTimeout, 2000);
  const cases: [Partial<Settings>[], number, number][] = [
    [[], 13_000, 2000],
    [[{ livelinessInterval: 1000 }], 1000, 1000],
    [[{ livelinessInterval: 2000 }], 2000, 2000],
    [[{ livelinessInterval: 5000 }], 5000, 2000],
    [[{ livelinessInterval: 1000, probeTimeout: 300 }], 1000, 300],
    [[{ livelinessInterval: 1000 }, { probeTimeout: 1000 }], 1000, 1000],
    [[{ probeTimeout: 5000 }, { livelinessInterval: 8000 }], 8000, 5000],
  ];
  for (const [layers, interval, probe] of cases) {
    const settings = resolveSettings(...layers);
    assert.equal(settings.livelinessInterval, interval, JSON.stringify(layers));
    assert.equal(settings.probeTimeout, probe, JSON.stringify(layers));
  }
});

Deno.test("a probe timeout set longer than the liveliness interval is refused, whichever layer set it", () => {
  const message = "probeTimeout must be <= livelinessInterval: current values 5000 > 1000";
  assert.equal(configError(() => resolveSettings({ livelinessInterval: 1000, probeTimeout: 5000 })), message);
  assert.equal(
    configError(() => resolveSettings({ probeTimeout: 5000 }, { livelinessInterval: 1000 })),
    message,
  );
  assert.equal(
    configError(() => resolveSettings({ probeTimeout: 14_000 })),
    "probeTimeout must be <= livelinessInterval: current values 14000 > 13000",
  );
});

Deno.test("a maximum frame under 8 KiB is refused, in a file as in a library layer", () => {
  assert.equal(
    configError(() => resolveSettings({ maxFrameBytes: 8191 })),
    "settings: maxFrameBytes: must be an integer >= 8192, got 8191",
  );
  assert.equal(
    configError(() => parseConfigObject({ maxFrameBytes: 1000 }, FILE)),
    `${FILE}: maxFrameBytes: must be an integer >= 8192, got 1000`,
  );
  const small = { maxFrameBytes: 8192, maxContentBytes: 300, storeLimit: 40, peerListLimit: 1 };
  assert.equal(resolveSettings(small).maxFrameBytes, 8192);
});

Deno.test("limits under which a valid message would not fit in a frame are refused, naming what to change", () => {
  const cases: [Partial<Settings>, string, string][] = [
    [
      { maxContentBytes: 200_000 },
      "maxContentBytes",
      "maxFrameBytes must be >= the largest message frame with maxContentBytes 200000 (1202090 bytes, " +
      "JSON escaping at its worst): current values 1048576 < 1202090; raise maxFrameBytes or lower maxContentBytes",
    ],
    [
      { storeLimit: 20_000 },
      "storeLimit",
      "maxFrameBytes must be >= the largest get_data frame with storeLimit 20000 (1400060 bytes, " +
      "JSON escaping at its worst): current values 1048576 < 1400060; raise maxFrameBytes or lower storeLimit",
    ],
    [
      { maxFrameBytes: 200_000, maxQueuedBytes: 400_000, storeLimit: 100, peerListLimit: 200 },
      "peerListLimit",
      "maxFrameBytes must be >= the largest get_peer_list frame with peerListLimit 200 (723251 bytes, " +
      "JSON escaping at its worst): current values 200000 < 723251; raise maxFrameBytes or lower peerListLimit",
    ],
    [
      { maxQueuedBytes: 2 * 1024 * 1024 },
      "maxQueuedBytes",
      "maxQueuedBytes must be >= 2097160, so that a frame of maxFrameBytes 1048576 fits in the 50% of the " +
      "write queue that catch-up may fill: current values 2097152 < 2097160; raise maxQueuedBytes or lower " +
      "maxFrameBytes",
    ],
  ];
  for (const [layer, field, message] of cases) {
    let thrown: unknown;
    try {
      resolveSettings(layer);
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown instanceof ConfigError, JSON.stringify(layer));
    assert.equal(thrown.message, message);
    assert.equal(thrown.field, field);
  }
  // At their defaults the limits fit, and so do the largest content and store that 1 MiB frames allow.
  resolveSettings({ maxContentBytes: 174_414 });
  resolveSettings({ storeLimit: 14_978 });
  assert.throws(() => resolveSettings({ maxContentBytes: 174_415 }), ConfigError);
});

Deno.test("a config file with the old maxMessageBytes is refused, naming maxContentBytes", () => {
  assert.equal(
    configError(() => parseConfigObject({ maxMessageBytes: 1000 }, FILE)),
    `${FILE}: maxMessageBytes: renamed to maxContentBytes, which counts bytes of UTF-8 rather than UTF-16 code units`,
  );
  assert.equal(resolveSettings({ maxContentBytes: 1000 }).maxContentBytes, 1000);
});
