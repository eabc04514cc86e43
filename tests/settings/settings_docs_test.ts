/**
 * What the settings table produces for people: docs/configuration.md (the settings drift
 * test) and the flags and option lines of `--help`.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../_process.ts";
import { CONFIGURATION_DOC_PATH, configurationDoc } from "../../lib/settings/configuration_doc.ts";
import { FLAG_FIELDS, flagOptions, SETTING_FLAGS, settingsFromFlags } from "../../lib/settings/flags.ts";
import { SETTINGS_TABLE, TUNING_TABLE } from "../../lib/settings/table.ts";
import { ConfigError, DEFAULT_SETTINGS } from "../../lib/settings/config.ts";
import { HELP } from "../../lib/cli/cli_help.ts";

Deno.test("docs/configuration.md is what the settings table generates (run `deno task docs` to update it)", async () => {
  const onDisk = await Deno.readTextFile(join(ROOT, CONFIGURATION_DOC_PATH));
  assert.ok(onDisk === configurationDoc(), `${CONFIGURATION_DOC_PATH} is stale: run \`deno task docs\``);
});

Deno.test("docs/configuration.md has a line for every setting and every fixed ratio", () => {
  const doc = configurationDoc();
  for (const name of [...Object.keys(SETTINGS_TABLE), ...Object.keys(TUNING_TABLE)]) {
    assert.match(doc, new RegExp(`^\\| \`${name}\` \\|`, "m"), name);
  }
});

Deno.test("every settable flag appears in the --help of each command that takes it, with its default", () => {
  assert.ok(SETTING_FLAGS.length > 0);
  for (const flag of SETTING_FLAGS) {
    for (const command of flag.commands) {
      const help = HELP[command];
      assert.ok(help.includes(`[${flag.name} ${flag.arg}]`), `${command} usage names ${flag.name}`);
      assert.match(
        help,
        new RegExp(`^  ${flag.name} ${flag.arg.replace(/[[\]().*+?]/g, "\\$&")} +\\S`, "m"),
        `${command} --help explains ${flag.name}`,
      );
      assert.ok(flag.name.slice(2) in flagOptions(command), `${command} parses ${flag.name}`);
    }
  }
  assert.match(HELP.peer, /--degree N +outbound neighbours to keep \(default: 4\)/);
  assert.match(HELP.peer, /--gossip-mode M +how messages spread: tree or flood \(default: tree\)/);
  assert.match(
    HELP.seed,
    new RegExp(
      `--host H +host to listen on, and to announce unless advertise is set \\(default: ${DEFAULT_SETTINGS.host}\\)`,
    ),
  );
});

Deno.test("a command parses only the setting flags the table gives it", () => {
  assert.deepEqual(Object.keys(flagOptions("clean")), ["log-dir"]);
  assert.ok(!("degree" in flagOptions("seed")), "--degree is a peer flag");
  assert.equal(FLAG_FIELDS["liveliness-interval"], "livelinessInterval");
});

Deno.test("settingsFromFlags settles the flags given and names a bad one", () => {
  assert.deepEqual(
    settingsFromFlags({ degree: "6", "liveliness-interval": "2s", config: "x.json" }, "peer"),
    {
      degree: 6,
      livelinessInterval: 2000,
    },
  );
  assert.throws(
    () => settingsFromFlags({ "gossip-mode": "gossip" }, "peer"),
    (error) =>
      error instanceof ConfigError &&
      error.message === '--gossip-mode: must be "tree" or "flood", got "gossip"',
  );
});
