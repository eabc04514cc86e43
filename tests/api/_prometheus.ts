/**
 * A strict parser of the Prometheus text format (0.0.4) for tests: every line must be a
 * HELP, TYPE, comment or sample line; every sample must belong to a family declared
 * before it (histograms by _bucket, _sum and _count); no series may repeat; histogram
 * buckets must be cumulative, end in +Inf, and match _count.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  samples: ParsedSample[];
}

const NAME = "[a-zA-Z_:][a-zA-Z0-9_:]*";
const LABEL = String.raw`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"`;
const SAMPLE = new RegExp(String.raw`^(${NAME})(?:\{((?:${LABEL})(?:,${LABEL})*)?,?\})? (\S+)(?: (-?\d+))?$`);
const VALUE = /^(?:[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]Inf|NaN)$/;

function unescape(text: string): string {
  return text.replace(/\\([\\"n])/g, (_, c) => (c === "n" ? "\n" : c));
}

function parseValue(text: string, line: string): number {
  if (!VALUE.test(text)) throw new Error(`bad value ${JSON.stringify(text)} in: ${line}`);
  return text === "+Inf" ? Infinity : text === "-Inf" ? -Infinity : Number(text);
}

export function parsePrometheus(text: string): Map<string, ParsedFamily> {
  if (text !== "" && !text.endsWith("\n")) throw new Error("the exposition must end with a line feed");
  const families = new Map<string, ParsedFamily>();
  const series = new Set<string>();
  for (const line of text.split("\n").slice(0, -1)) {
    let match: RegExpExecArray | null;
    if ((match = new RegExp(`^# HELP (${NAME}) (.*)$`).exec(line))) {
      if (families.has(match[1]!)) throw new Error(`HELP after the family's samples or twice: ${line}`);
      families.set(match[1]!, { name: match[1]!, help: match[2]!, type: "untyped", samples: [] });
      continue;
    }
    if ((match = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line))) {
      const family = families.get(match[1]!);
      if (!family || family.samples.length > 0) {
        throw new Error(`TYPE without HELP or after samples: ${line}`);
      }
      family.type = match[2]!;
      continue;
    }
    if (line.startsWith("#")) throw new Error(`unexpected comment: ${line}`);
    match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a sample line: ${JSON.stringify(line)}`);
    const name = match[1]!;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? "").matchAll(new RegExp(LABEL, "g"))) {
      if (pair[1]! in labels) throw new Error(`label ${pair[1]} twice: ${line}`);
      labels[pair[1]!] = unescape(pair[2]!);
    }
    const value = parseValue(match[match.length - 2]!, line);
    const base = name.replace(/_(bucket|sum|count)$/, "");
    const family = families.get(name) ?? families.get(base);
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    if (family.name !== name && family.type !== "histogram" && family.type !== "summary") {
      throw new Error(`sample ${name} does not belong to ${family.type} ${family.name}`);
    }
    if (family.type === "counter" && !(value >= 0)) throw new Error(`negative counter: ${line}`);
    const key = name + JSON.stringify(Object.entries(labels).sort());
    if (series.has(key)) throw new Error(`series twice: ${line}`);
    series.add(key);
    family.samples.push({ name, labels, value });
  }
  for (const family of families.values()) if (family.type === "histogram") checkHistogram(family);
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter((s) => s.name.endsWith("_bucket"));
    const count = samples.find((s) => s.name.endsWith("_count"));
    if (!samples.some((s) => s.name.endsWith("_sum")) || count === undefined) {
      throw new Error(`histogram ${family.name} lacks _sum or _count`);
    }
    let lastLe = -Infinity;
    let lastCount = 0;
    for (const b of buckets) {
      const le = parseValue(b.labels.le ?? "", `le of ${family.name}`);
      if (le <= lastLe || b.value < lastCount) {
        throw new Error(`histogram ${family.name} buckets not cumulative`);
      }
      lastLe = le;
      lastCount = b.value;
    }
    if (lastLe !== Infinity || lastCount !== count.value) {
      throw new Error(`histogram ${family.name} must end with le="+Inf" equal to _count`);
    }
  }
}

/** The value of the sample `name` with `labels` (all given labels must match), or undefined. */
export function sampleValue(
  families: Map<string, ParsedFamily>,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const family of families.values()) {
    for (const s of family.samples) {
      if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) return s.value;
    }
  }
  return undefined;
}
