/**
 * The settings table's kinds: each kind takes its good values and refuses its bad ones
 * with one message shape, from a file, a flag or a library caller alike; library layers
 * (`resolveSettings`, `new PeerNode({ settings })`) are checked like config files.
 */

import assert from "node:assert/strict";
import {
  CONFIG_FIELDS,
  ConfigError,
  DEFAULT_SETTINGS,
  parseConfigObject,
  parseFlagValue,
  resolveSettings,
  type SettingName,
  type SettingsLayer,
  TUNING,
} from "../../lib/settings/config.ts";
import { SETTINGS_TABLE, TUNING_TABLE } from "../../lib/settings/table.ts";
import { PeerNode } from "../../lib/peer/peer_node.ts";
import { SeedNode } from "../../lib/seed/seed_node.ts";

const FILE = "p2pnet.json";

/** The ConfigError that `fn` throws; fails on any other outcome. */
function configError(fn: () => unknown, note = ""): ConfigError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError ${note}, got ${error}`);
    return error;
  }
  assert.fail(`expected a ConfigError ${note}, got no error`);
}

// One field of each kind, the values it settles from a file, and the messages of values it refuses.
const KINDS: {
  field: SettingName;
  good: [unknown, unknown][];
  bad: [unknown, string][];
}[] = [
  {
    field: "degree", // int, min 1
    good: [[1, 1], [4, 4], [2 ** 53 - 1, 2 ** 53 - 1]],
    bad: [
      [0, "must be an integer >= 1, got 0"],
      [-3, "must be an integer >= 1, got -3"],
      [2.5, "must be an integer >= 1, got 2.5"],
      ["4", 'must be an integer >= 1, got "4"'],
      [NaN, "must be an integer >= 1, got null"],
      [Infinity, "must be an integer >= 1, got null"],
      [2 ** 53, `must be an integer >= 1, got ${2 ** 53}`],
      [10n, "must be an integer >= 1, got 10"],
      [{}, "must be an integer >= 1, got {}"],
    ],
  },
  {
    field: "gossipCount", // int, min 0
    good: [[0, 0], [7, 7]],
    bad: [[-1, "must be an integer >= 0, got -1"], [false, "must be an integer >= 0, got false"]],
  },
  {
    field: "probeTimeout", // duration
    good: [[1, 1], [1.4, 1], ["250ms", 250], ["2s", 2000], ["1.5m", 90_000], ["1h", 3_600_000], ["90", 90]],
    bad: [
      [0, 'must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got 0'],
      ["2 s", 'must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got "2 s"'],
      [[1000], 'must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got [1000]'],
      [2 ** 31, `must be at most ${2 ** 31 - 1} ms (about 24.8 days, the longest timer), got ${2 ** 31}`],
    ],
  },
  {
    field: "port", // port
    good: [[0, 0], [65535, 65535], ["6001", 6001]],
    bad: [
      [65536, 'port must be an integer 0-65535, got "65536"'],
      [[80], 'port must be an integer 0-65535, got "[80]"'],
      [null, 'port must be an integer 0-65535, got "null"'],
    ],
  },
  {
    field: "api", // listen: host:port or "" for off
    good: [["", ""], ["127.0.0.1:0", "127.0.0.1:0"], ["[::1]:8080", "[::1]:8080"], [
      "localhost:9",
      "localhost:9",
    ]],
    bad: [
      ["8080", 'must be "host:port" (IPv6 as "[::1]:6001"), got "8080"'],
      ["127.0.0.1:70000", 'port must be an integer 0-65535, got "70000"'],
      [8080, 'must be "host:port" or "", got 8080'],
    ],
  },
  {
    field: "logDir", // text
    good: [["logs", "logs"], [" x ", " x "]],
    bad: [["", 'must be a non-empty string, got ""'], [7, "must be a non-empty string, got 7"]],
  },
  {
    field: "networkKey", // secret: never shown
    good: [["", ""], ["s3cret", "s3cret"]],
    bad: [[1234, "must be a string, got a number"], [["s3cret"], "must be a string, got a object"]],
  },
  {
    field: "logLevel", // choice of many
    good: [["trace", "trace"], ["fatal", "fatal"]],
    bad: [["Info", 'must be one of trace, debug, info, warning, error, fatal, got "Info"']],
  },
  {
    field: "gossipMode", // choice of two
    good: [["flood", "flood"]],
    bad: [["push", 'must be "tree" or "flood", got "push"'], [null, 'must be "tree" or "flood", got null']],
  },
  {
    field: "seeds", // addresses
    good: [
      [["127.0.0.1:1"], [{ host: "127.0.0.1", port: 1 }]],
      [["[::1]:2", { host: "::1", port: 3 }], [{ host: "::1", port: 2 }, { host: "::1", port: 3 }]],
    ],
    bad: [
      [[], "must list at least one seed, got []"],
      ["127.0.0.1:1", 'must be a list of "host:port", got "127.0.0.1:1"'],
    ],
  },
  {
    field: "advertise", // hostPort
    good: [["", ""], ["10.0.0.1", "10.0.0.1"], ["node-1:7000", "node-1:7000"], [
      "[fd00::1]:7000",
      "[fd00::1]:7000",
    ]],
    bad: [
      ["0.0.0.0", 'must be an address others can reach, not a wildcard, got "0.0.0.0"'],
      ["[::]:7000", 'must be an address others can reach, not a wildcard, got "[::]:7000"'],
      ["10.0.0.1:0", 'port must be an integer 1-65535, got "0"'],
      ["a b", 'must be "host" or "host:port" (IPv6 in brackets), got "a b"'],
      [7000, 'must be a string "host[:port]", got 7000'],
    ],
  },
];

Deno.test("each kind of setting settles its good values and refuses bad ones naming the file and field", () => {
  for (const { field, good, bad } of KINDS) {
    for (const [value, settled] of good) {
      assert.deepEqual(
        parseConfigObject({ [field]: value }, FILE),
        { [field]: settled },
        `${field} ${value}`,
      );
    }
    for (const [value, message] of bad) {
      const error = configError(() => parseConfigObject({ [field]: value }, FILE), `${field} ${value}`);
      assert.equal(error.message, `${FILE}: ${field}: ${message}`);
      assert.equal(error.field, field);
    }
  }
});

Deno.test("every kind SETTINGS_TABLE uses has a case in this file's kind table", () => {
  const covered = new Set(KINDS.map(({ field }) => SETTINGS_TABLE[field].kind));
  const kinds = new Set(Object.values(SETTINGS_TABLE).map((row) => row.kind));
  assert.deepEqual([...covered].sort(), [...kinds].sort());
});

Deno.test("flag text is read by the same rows: whole numbers as digits, and the message names the flag", () => {
  const ok: [SettingName, string, unknown][] = [
    ["degree", "7", 7],
    ["gossipCount", "0", 0],
    ["probeTimeout", "250ms", 250],
    ["port", "0", 0],
    ["logDir", "a b", "a b"],
    ["gossipMode", "flood", "flood"],
    ["retryJoin", "0", 0],
    ["retryJoin", "2m", 120_000],
    ["seeds", "10.0.0.1:6001,[fd00::2]:6002", [{ host: "10.0.0.1", port: 6001 }, {
      host: "fd00::2",
      port: 6002,
    }]],
  ];
  for (const [field, text, value] of ok) assert.deepEqual(parseFlagValue(field, `--${field}`, text), value);
  const bad: [SettingName, string, string][] = [
    ["degree", "+7", '--x: must be an integer >= 1, got "+7"'],
    ["degree", " 7", '--x: must be an integer >= 1, got " 7"'],
    ["gossipMode", "FLOOD", '--x: must be "tree" or "flood", got "FLOOD"'],
    ["seeds", "10.0.0.1:6001,10.0.0.1:6001", '--x[1]: duplicate seed "10.0.0.1:6001"'],
    ["seeds", "10.0.0.1", '--x[0]: must be "host:port" (IPv6 as "[::1]:6001"), got "10.0.0.1"'],
    [
      "advertise",
      "0.0.0.0:7000",
      '--x: must be an address others can reach, not a wildcard, got "0.0.0.0:7000"',
    ],
    [
      "probeTimeout",
      "0s",
      '--x: must be a duration such as "250ms", "13s" or "2m" (or milliseconds), got "0s"',
    ],
  ];
  for (const [field, text, message] of bad) {
    const error = configError(() => parseFlagValue(field, "--x", text), text);
    assert.equal(error.message, message);
    assert.equal(error.field?.replace(/\[\d+\]$/, ""), field);
  }
});

Deno.test("resolveSettings refuses a bad field of a library layer with a ConfigError naming it", () => {
  const cases: [SettingsLayer, string, string][] = [
    [{ degree: 0 }, "degree", "settings: degree: must be an integer >= 1, got 0"],
    [
      { livelinessInterval: "soon" },
      "livelinessInterval",
      "settings: livelinessInterval: must be a duration",
    ],
    [
      { seeds: ["127.0.0.1:abc"] },
      "seeds[0]",
      'settings: seeds[0]: port must be an integer 1-65535, got "abc"',
    ],
    [
      { seeds: [{ host: "h", port: 0 }] },
      "seeds[0]",
      'settings: seeds[0]: port must be an integer 1-65535, got "0"',
    ],
    [
      { seeds: ["127.0.0.1:1", { host: "127.0.0.1", port: 1 }] },
      "seeds[1]",
      'settings: seeds[1]: duplicate seed "127.0.0.1:1"',
    ],
    [
      { degre: 4 } as SettingsLayer,
      "degre",
      "settings: degre: unknown field; known fields are seeds, host, ",
    ],
  ];
  for (const [layer, field, message] of cases) {
    const error = configError(() => resolveSettings({ gossipCount: 0 }, layer), JSON.stringify(layer));
    assert.ok(error.message.startsWith(message), error.message);
    assert.equal(error.field, field);
  }
  assert.equal(
    configError(() => resolveSettings(42 as SettingsLayer)).message,
    "settings: must be an object, got 42",
  );
});

Deno.test("a value of any type in any field is settled or refused naming the field, never a TypeError", () => {
  const cycle: Record<string, unknown> = {};
  cycle.self = cycle;
  const odd = [null, true, 10n, Symbol("s"), () => 1, NaN, -Infinity, {}, [], [null], cycle, "x", -1, 1e300];
  for (const field of CONFIG_FIELDS) {
    for (const value of odd) {
      try {
        resolveSettings({ [field]: value } as SettingsLayer);
      } catch (error) {
        assert.ok(error instanceof ConfigError, `${field} ${String(value)}: ${error}`);
        assert.ok((error.field ?? "").startsWith(field), error.message);
      }
    }
  }
});

Deno.test("seeds given as host:port text, Address objects or both settle into addresses", () => {
  const settings = resolveSettings({ seeds: ["127.0.0.1:6001", { host: "::1", port: 6002 }, "[::1]:6003"] });
  assert.deepEqual(settings.seeds, [
    { host: "127.0.0.1", port: 6001 },
    { host: "::1", port: 6002 },
    { host: "::1", port: 6003 },
  ]);
});

Deno.test("durations of a library layer may be text with a unit", () => {
  const settings = resolveSettings({ livelinessInterval: "2s", probeTimeout: "250ms", banTime: 1500 });
  assert.equal(settings.livelinessInterval, 2000);
  assert.equal(settings.probeTimeout, 250);
  assert.equal(settings.banTime, 1500);
});

Deno.test("resolved settings passed back through resolveSettings come out the same", () => {
  const once = resolveSettings({ livelinessInterval: 1000, seeds: ["127.0.0.1:7000"] }, { degree: 2 });
  assert.deepEqual(resolveSettings(once), once);
  assert.notEqual(resolveSettings(once).seeds, once.seeds, "a copy, not the same list");
  once.degree = 0;
  assert.equal(configError(() => resolveSettings(once)).field, "degree", "a changed copy is checked again");
});

Deno.test("new PeerNode and new SeedNode refuse bad settings with a ConfigError naming the field", () => {
  assert.equal(configError(() => new PeerNode({ settings: { degree: 0 } })).field, "degree");
  assert.equal(configError(() => new SeedNode({ settings: { banTime: -1 } })).field, "banTime");
  const peer = new PeerNode({
    settings: { seeds: ["127.0.0.1:6101", "127.0.0.1:6102"], fetchTimeout: "2s" },
  });
  assert.deepEqual(peer.settings.seeds, [{ host: "127.0.0.1", port: 6101 }, {
    host: "127.0.0.1",
    port: 6102,
  }]);
  assert.equal(peer.settings.fetchTimeout, 2000);
});

Deno.test("DEFAULT_SETTINGS holds every row's default, settled, and cannot be changed", () => {
  assert.deepEqual(Object.keys(DEFAULT_SETTINGS), Object.keys(SETTINGS_TABLE));
  assert.equal(DEFAULT_SETTINGS.livelinessInterval, SETTINGS_TABLE.livelinessInterval.default);
  assert.deepEqual(DEFAULT_SETTINGS.seeds[0], { host: "127.0.0.1", port: 6001 });
  assert.ok(Object.isFrozen(DEFAULT_SETTINGS) && Object.isFrozen(DEFAULT_SETTINGS.seeds));
});

Deno.test("TUNING holds each fixed ratio of the table by name, frozen", () => {
  assert.ok(Object.isFrozen(TUNING));
  for (const [name, row] of Object.entries(TUNING_TABLE)) {
    assert.equal(TUNING[name as keyof typeof TUNING], row.value, name);
    assert.ok(row.doc.length > 0 && !row.doc.includes("\n") && row.unit.length > 0, name);
  }
  assert.equal(TUNING.acceptRetryMs, 50);
  assert.equal(TUNING.shortRetryDivisor, 20);
});
