/**
 * The deployment files are checked as far as this machine allows: compose.yaml by
 * `docker compose config` where Docker Compose works, else parsed as YAML and read; the
 * systemd units by `systemd-analyze verify` where it exists; the Dockerfile by reading.
 * Each check that cannot run says so on the console.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT, withTempDir } from "../_process.ts";

async function tryRun(command: string, args: string[], cwd = ROOT) {
  try {
    const out = await new Deno.Command(command, { args, cwd, stdout: "piped", stderr: "piped" }).output();
    const text = (b: Uint8Array) => new TextDecoder().decode(b);
    return { ok: out.success, stdout: text(out.stdout), stderr: text(out.stderr) };
  } catch {
    return undefined;
  }
}

interface Service {
  command: string[];
  networks: Record<string, { ipv4_address: string }>;
}

Deno.test("compose.yaml runs three seeds and five peers on their own network, each told --advertise and --seeds", async () => {
  const compose = await tryRun("docker", ["compose", "version"]);
  if (compose?.ok) {
    const config = await tryRun("docker", ["compose", "-f", "compose.yaml", "config", "--quiet"]);
    assert.ok(config?.ok, `docker compose config: ${config?.stderr}`);
  } else console.log("deployment_test: docker compose not available: compose.yaml checked by parsing it");
  const doc = parse(await Deno.readTextFile(join(ROOT, "compose.yaml")), { merge: true });
  const services = doc.services as Record<string, Service>;
  const roles = Object.values(services).map((s) => s.command[0]);
  assert.equal(roles.filter((r) => r === "seed").length, 3);
  assert.equal(roles.filter((r) => r === "peer").length, 5);
  assert.ok(doc.networks.p2pnet.ipam.config[0].subnet, "a network of their own");
  const flag = (s: Service, name: string) => s.command[s.command.indexOf(name) + 1];
  const seedAddresses = Object.values(services).filter((s) => s.command[0] === "seed")
    .map((s) => `${flag(s, "--advertise")}:${flag(s, "--port")}`);
  for (const [name, service] of Object.entries(services)) {
    const address = service.networks.p2pnet?.ipv4_address;
    assert.equal(flag(service, "--advertise"), address, `${name} announces its own address`);
    assert.equal(flag(service, "--host"), "0.0.0.0", `${name} listens on every interface`);
    assert.deepEqual(flag(service, "--seeds")?.split(","), seedAddresses, `${name} knows every seed`);
  }
});

Deno.test("the systemd units restart on failure and stop with SIGTERM, and pass systemd-analyze verify", async () => {
  const units = ["p2pnet-peer.service", "p2pnet-seed.service"];
  for (const unit of units) {
    const text = await Deno.readTextFile(join(ROOT, "deploy", unit));
    assert.match(text, /^Restart=on-failure$/m, unit);
    assert.match(text, /^KillSignal=SIGTERM$/m, unit);
    assert.match(text, /^ExecStart=\/usr\/local\/bin\/p2pnet (peer|seed) /m, unit);
  }
  const version = await tryRun("systemd-analyze", ["--version"]);
  if (!version?.ok) {
    console.log("deployment_test: systemd-analyze not available: the units were only read");
    return;
  }
  await withTempDir(async (dir) => {
    for (const unit of units) {
      // verify insists that ExecStart exists: point it at a program that does.
      const text = await Deno.readTextFile(join(ROOT, "deploy", unit));
      await Deno.writeTextFile(join(dir, unit), text.replace("/usr/local/bin/p2pnet", Deno.execPath()));
      const result = await tryRun("systemd-analyze", ["verify", join(dir, unit)], dir);
      assert.ok(result?.ok, `${unit}: ${result?.stderr}`);
      const complaints = result!.stderr.split("\n").filter((line) => line.includes(unit));
      assert.deepEqual(complaints, [], `${unit}: systemd-analyze verify`);
    }
  });
});

Deno.test("the Dockerfile installs Deno from npm at CI's version and the app with deno install, and runs it unprivileged with data and log volumes", async () => {
  const text = await Deno.readTextFile(join(ROOT, "Dockerfile"));
  const ci = await Deno.readTextFile(join(ROOT, ".ci/run"));
  const version = /^DENO_VERSION=(\S+)$/m.exec(ci)![1];
  assert.match(text, new RegExp(`^ARG DENO_VERSION=${version!.replaceAll(".", "\\.")}$`, "m"));
  assert.match(text, /npm install -g "deno@\$\{DENO_VERSION\}"/);
  assert.match(text, /deno install -g -f --root \/usr\/local .*--name p2pnet/s);
  assert.match(text, /^USER p2pnet$/m);
  assert.match(text, /^VOLUME \["\/data", "\/logs"\]$/m);
  assert.match(text, /^STOPSIGNAL SIGTERM$/m);
});
