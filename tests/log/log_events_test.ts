/** The log's event names are a contract with tools: each one the code logs is documented. */

import assert from "node:assert/strict";
import { join } from "node:path";
import { ROOT } from "../_process.ts";

/** Every `event: "name"` written in lib/. */
function loggedEvents(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) walk(path);
      else if (entry.name.endsWith(".ts")) {
        for (const match of Deno.readTextFileSync(path).matchAll(/\bevent: "([a-z_.]+)"/g)) {
          names.add(match[1]!);
        }
      }
    }
  };
  walk(join(ROOT, "lib"));
  return names;
}

Deno.test("every event name the code logs is listed in docs/operations.md, and every listed name is logged", () => {
  const doc = Deno.readTextFileSync(join(ROOT, "docs/operations.md"));
  const table = doc.slice(doc.indexOf("### Event names"));
  const documented = new Set([...table.matchAll(/^\|\s*`([a-z_.]+)`\s*\|/gm)].map((m) => m[1]!));
  const logged = loggedEvents();
  assert.ok(logged.size > 30, `found only ${logged.size} event names in lib/`);
  assert.deepEqual([...logged].filter((name) => !documented.has(name)), [], "logged but not documented");
  assert.deepEqual([...documented].filter((name) => !logged.has(name)), [], "documented but never logged");
});
