/**
 * docs/configuration.md, generated from the settings table and the tuning table. Run `deno task docs` after
 * changing a row; a test fails while the file differs from what this module writes.
 */

import { boundsOf, listChoices, type Row } from "./kinds.ts";
import { ROWS, type SettingName, TUNING_TABLE } from "./table.ts";
import { formatDefault } from "./flags.ts";

/** Where the generated document lives, from the repository root. */
export const CONFIGURATION_DOC_PATH = "docs/configuration.md";

/** A markdown table cell: pipes escaped, so a doc line cannot break the table. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|");
}

function row(cells: readonly string[]): string {
  return `| ${cells.map(cell).join(" | ")} |`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
}

function typeOf(r: Row): string {
  switch (r.kind) {
    case "int":
      return "integer";
    case "duration":
      return "duration";
    case "port":
      return "port";
    case "text":
      return "string";
    case "secret":
      return "string (secret)";
    case "listen":
      return '"host:port" or ""';
    case "choice":
      return listChoices(r.values);
    case "addresses":
      return 'list of "host:port"';
    case "hostPort":
      return '"host" or "host:port"';
  }
}

function boundsText(r: Row): string {
  if (r.kind === "addresses") return "at least 1, no duplicates";
  if (r.kind === "text") return r.default === "" ? "" : "not empty";
  if (r.kind === "hostPort") return "no wildcard";
  const bounds = boundsOf(r);
  if (bounds === undefined) return "";
  const [min, max] = bounds;
  return max === undefined ? `>= ${min}` : `${min} to ${max}`;
}

function defaultText(field: SettingName): string {
  const r = ROWS[field];
  const shown = formatDefault(field);
  if ((r.kind === "secret" || r.kind === "hostPort" || r.kind === "text") && shown === "") return '"" (none)';
  if (r.kind === "listen" && shown === "") return '"" (off)';
  if (
    r.kind === "int" && (r.unit === "bytes" || r.unit === "bytes/s") && r.default >= 1024 &&
    r.default % 1024 === 0
  ) {
    const mib = r.default % (1024 * 1024) === 0;
    return `${shown} (${mib ? `${r.default / 1024 / 1024} MiB` : `${r.default / 1024} KiB`})`;
  }
  return shown;
}

function flagText(r: Row): string {
  return r.flag ? `\`${r.flag.name} ${r.flag.arg}\` (${r.flag.commands.join(", ")})` : "";
}

/** The whole of docs/configuration.md. */
export function configurationDoc(): string {
  const fields = Object.keys(ROWS) as SettingName[];
  const settings = table(
    ["Field", "Type", "Unit", "Default", "Bounds", "Flag", "What it is"],
    fields.map((field) => {
      const r = ROWS[field];
      const unit = "unit" in r ? r.unit : "";
      return [`\`${field}\``, typeOf(r), unit, defaultText(field), boundsText(r), flagText(r), r.doc];
    }),
  );
  const details = fields
    .filter((field) => ROWS[field].details !== undefined)
    .map((field) => `- \`${field}\`: ${ROWS[field].details}`)
    .join("\n");
  const tuning = table(
    ["Name", "Value", "Unit", "What it is"],
    Object.entries(TUNING_TABLE).map(([name, t]) => [`\`${name}\``, String(t.value), t.unit, t.doc]),
  );
  return `# Configuration

<!-- Generated from lib/settings/table.ts and tuning.ts by \`deno task docs\`: edit those, not this file. -->

A node's settings come from, later winning: the defaults below, \`config.json\` (or the file given with
\`--config FILE\`), the \`P2PNET_KEY\` environment variable (for \`networkKey\`), then command-line flags. A
library caller passes the same fields to \`new PeerNode({ settings })\` or \`new SeedNode({ settings })\`, and
they are checked the same way. A field nobody sets keeps its default; an unknown field is refused.

Durations are a number of milliseconds (\`1500\`) or text with a unit: \`250ms\`, \`13s\`, \`2m\`, \`1h\`.
Sizes are in bytes. A minimal \`config.json\`:

\`\`\`json
{
  "seeds": ["127.0.0.1:6001", "127.0.0.1:6002", "127.0.0.1:6003"],
  "livelinessInterval": "13s"
}
\`\`\`

## Settings

${settings}

## Details

${details}

## Fixed ratios and pauses

Not settable: each is a multiple of a setting, or too small to matter. They are \`TUNING\` in
lib/settings/tuning.ts.

${tuning}
`;
}

if (import.meta.main) {
  const path = new URL(`../../${CONFIGURATION_DOC_PATH}`, import.meta.url);
  await Deno.writeTextFile(path, configurationDoc());
  console.log(`wrote ${CONFIGURATION_DOC_PATH}`);
}
