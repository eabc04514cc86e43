import assert from "node:assert/strict";
import { escapeLabel, exposition, type Family, formatValue } from "../../lib/api/prometheus.ts";
import { Histogram } from "../../lib/util/histogram.ts";
import { parsePrometheus, sampleValue } from "./_prometheus.ts";

Deno.test("exposition writes HELP and TYPE, labels escaped, and histograms with cumulative buckets, _sum and _count", () => {
  const h = new Histogram([1, 5, 10]);
  for (const v of [0.5, 1, 3, 7, 12]) h.observe(v);
  const families: Family[] = [
    { name: "x_total", help: "Things.\nSecond line \\ here.", type: "counter", samples: [{ value: 3 }] },
    {
      name: "y",
      help: "Labelled.",
      type: "gauge",
      samples: [{ labels: { why: 'say "hi"\\\nbye' }, value: 1.5 }, { labels: { why: "b" }, value: -2 }],
    },
    {
      name: "z",
      help: "Hist.",
      type: "histogram",
      samples: [{ labels: { kind: "a" }, histogram: h.snapshot() }],
    },
  ];
  const text = exposition(families);
  assert.equal(
    text,
    [
      "# HELP x_total Things.\\nSecond line \\\\ here.",
      "# TYPE x_total counter",
      "x_total 3",
      "# HELP y Labelled.",
      "# TYPE y gauge",
      'y{why="say \\"hi\\"\\\\\\nbye"} 1.5',
      'y{why="b"} -2',
      "# HELP z Hist.",
      "# TYPE z histogram",
      'z_bucket{kind="a",le="1"} 2',
      'z_bucket{kind="a",le="5"} 3',
      'z_bucket{kind="a",le="10"} 4',
      'z_bucket{kind="a",le="+Inf"} 5',
      'z_sum{kind="a"} 23.5',
      'z_count{kind="a"} 5',
      "",
    ].join("\n"),
  );
  const parsed = parsePrometheus(text);
  assert.equal(sampleValue(parsed, "y", { why: 'say "hi"\\\nbye' }), 1.5);
  assert.equal(sampleValue(parsed, "z_bucket", { le: "+Inf" }), 5);
});

Deno.test("exposition refuses metric and label names the format does not allow", () => {
  assert.throws(() => exposition([{ name: "bad-name", help: "", type: "gauge", samples: [] }]), RangeError);
  assert.throws(
    () =>
      exposition([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { "a-b": "x" }, value: 1 }] }]),
    RangeError,
  );
  assert.throws(
    () =>
      exposition([{ name: "ok", help: "", type: "gauge", samples: [{ labels: { __x: "x" }, value: 1 }] }]),
    RangeError,
  );
});

Deno.test("sample values: infinities and NaN as the format writes them, label values escaped", () => {
  const cases: [number, string][] = [[Infinity, "+Inf"], [-Infinity, "-Inf"], [NaN, "NaN"], [0.25, "0.25"], [
    1e21,
    "1e+21",
  ]];
  for (const [value, text] of cases) assert.equal(formatValue(value), text);
  assert.equal(escapeLabel('a\\b"c\nd'), 'a\\\\b\\"c\\nd');
});

Deno.test("the strict parser refuses what Prometheus would refuse", () => {
  const bad = [
    "x 1", // no ending line feed
    "x 1\n", // undeclared family
    '# HELP x a\n# TYPE x counter\nx{a="1",a="2"} 1\n', // label twice
    "# HELP x a\n# TYPE x counter\nx 1\nx 2\n", // series twice
    "# HELP x a\n# TYPE x counter\nx one\n", // bad value
    '# HELP h a\n# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
  ];
  for (const text of bad) assert.throws(() => parsePrometheus(text), Error, JSON.stringify(text));
});

Deno.test("Histogram refuses bounds that do not ascend", () => {
  assert.throws(
    () => new Histogram([1, 1]),
    new RangeError("Histogram bounds must ascend: current values 1 >= 1"),
  );
});
