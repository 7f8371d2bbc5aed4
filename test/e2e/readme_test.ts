/**
 * End-to-end: every command of the README's shell blocks, in the order a newcomer reads them, run
 * as written by bash on the simulated host, starting from an empty folder. The README's own ports
 * (80, 443, 5000, 6550) are used, so the walk runs in a network namespace of its own.
 */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** Lines of the README's shell blocks that are not `firestream` commands, and why they are not run. */
const NOT_RUN: Record<string, string> = {
  "deno task cluster:create": "runs `firestream cluster create` in this clone's own folder",
  "deno task test": "this suite",
  "deno task test:load": "this suite with every core busy",
  "sha256sum -c SHA256SUMS --ignore-missing": "checks a downloaded release",
  "install -m 0755 firestream-linux-x86_64 ~/.local/bin/firestream":
    "installs a downloaded release",
  "deno task install": "installs this clone; the test runs main.ts through a `firestream` script",
  'export PATH="$HOME/.deno/bin:$PATH"': "the shell profile line for `deno task install`",
  "docker push k3d-registry.localhost:5000/myapp:dev":
    "Docker's command; the test asks the registry's /v2/ at that address instead",
  "firestream cluster trust":
    "changes this machine's trust stores; test/e2e/trust_test.ts runs it on throwaway NSS databases",
  "kubectl create deployment hello --image=traefik/whoami --port=80":
    "the user's own app, made with kubectl",
  "kubectl expose deployment hello --port=80": "the user's own app, made with kubectl",
  'kubectl create ingress hello --rule="hello.firestream.local/*=hello:80,tls"':
    "the user's own app, made with kubectl",
};

/** The lines of every ```sh block, comments removed, in the order of the file. */
function readmeLines(): string[] {
  const text = Deno.readTextFileSync(`${ROOT}/README.md`);
  const lines: string[] = [];
  for (const block of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1].split("\n")) {
      // a comment, whole-line or after the command, is for the reader
      const line = raw.replace(/(^|\s+)#\s.*$/, "").trim();
      if (line) lines.push(line);
    }
  }
  return lines;
}

const root = Deno.uid() === 0;
if (!root) {
  console.error(
    "SKIPPED (not root): the README walk needs a network namespace of its own (`unshare -n`) for the README's ports",
  );
}

/** A shell in a network namespace of its own that lives as long as `holder`. */
async function privateNetwork(h: SimHost) {
  const holder = new Deno.Command("unshare", {
    args: ["-n", "--", "sh", "-c", "ip link set lo up && exec sleep 3600"],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  Deno.writeTextFileSync(`${h.simDir}/pids`, `${holder.pid}\n`, { append: true });
  // the namespace is ready once lo is up in it
  await until("the private network namespace", async () => {
    const r = await new Deno.Command("nsenter", {
      args: [`--net=/proc/${holder.pid}/ns/net`, "ip", "-o", "link", "show", "lo"],
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(r.stdout).includes("UP");
  });
  const bin = `${h.root}/bin`;
  Deno.mkdirSync(bin, { recursive: true });
  Deno.writeTextFileSync(
    `${bin}/firestream`,
    `#!/bin/sh\nexec "${Deno.execPath()}" run -A --quiet "${ROOT}/main.ts" "$@"\n`,
  );
  Deno.chmodSync(`${bin}/firestream`, 0o755);
  // `init` names the cluster after the folder: the README's examples name it firestream-local
  const cwd = `${h.projectDir}/firestream-local`;
  Deno.mkdirSync(cwd, { recursive: true });
  const sh = async (line: string) => {
    const r = await new Deno.Command("nsenter", {
      args: [`--net=/proc/${holder.pid}/ns/net`, "bash", "-c", line],
      cwd,
      env: { ...h.env, PATH: `${bin}:${h.env.PATH}` },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const d = new TextDecoder();
    return { code: r.code, stdout: d.decode(r.stdout), stderr: d.decode(r.stderr) };
  };
  return { sh, stop: () => holder.kill("SIGKILL") };
}

Deno.test({
  name:
    "newcomer: every command of the README's shell blocks runs as written, in the order it is read, from an empty folder",
  ignore: !root,
}, async () => {
  const lines = readmeLines();
  const skipped = lines.filter((l) => !l.startsWith("firestream") || l in NOT_RUN);
  assertEquals(skipped, Object.keys(NOT_RUN), "a new command in the README needs a place here");
  for (const l of skipped) console.log(`not run: ${l} (${NOT_RUN[l]})`);

  // what a newcomer does between the README's lines: their own app, a cluster made by a script
  const before: Record<
    string,
    (h: SimHost, sh: (l: string) => Promise<unknown>) => Promise<unknown> | void
  > = {
    "firestream cluster create --agents 3": (h) => {
      h.kube("firestream-local", (k, { addDeployment, addService }) => {
        addDeployment(k, { namespace: "default", name: "web" });
        addService(k, { namespace: "default", name: "web", ports: [8080] });
      });
    },
    "firestream import cluster firestream-local --write-config": (_h, sh) =>
      sh("firestream cluster delete --yes && k3d cluster create firestream-local"),
  };
  // what a line that needs a terminal says without one, as the README says it does
  const needsTerminal: Record<string, RegExp> = {
    "firestream ui": /needs a terminal: use `firestream cluster info --json`/,
  };
  // what each line must say, besides succeeding
  const says: Record<string, RegExp> = {
    "firestream --version": /^firestream 0\.1\.0/,
    "firestream cluster info --json": /"status": "running"/,
    "firestream cluster delete --yes": /Cluster firestream-local deleted\./,
    "firestream init": /firestream\.toml/,
    "firestream cluster create": /Cluster firestream-local is ready\./,
    "firestream cluster port-forward --detach": /runs in the background/,
    "firestream cluster delete": /Cluster firestream-local deleted\./,
    "firestream cluster create --agents 3": /agents = 2 -> 3/,
    "firestream cluster port-forward svc/web --detach": /default\s+web\s+8080/,
    "firestream cluster port-forward --list": /supervisor (not )?running/,
    "firestream cluster logs deployment/web --tail 20": /web-\w+-\w+\/web \| /,
    "firestream cluster diagnostics": /\d+ nodes/,
    "firestream cluster stop": /`firestream cluster start` starts it again/,
    "firestream cluster start": /Cluster firestream-local is running\./,
    "firestream state backups": /WRITTEN BY/,
    "firestream doctor -q": /checks: \d+ passed/,
    "firestream import cluster firestream-local --write-config":
      /Imported cluster firestream-local/,
  };

  await withSimHost({}, async (h) => {
    const net = await privateNetwork(h);
    try {
      const seen = new Map<string, number>();
      for (const line of lines.filter((l) => !skipped.includes(l))) {
        const n = (seen.get(line) ?? 0) + 1;
        seen.set(line, n);
        if (n === 1) await before[line]?.(h, net.sh);
        let r = await net.sh(line);
        if (needsTerminal[line]) {
          assertEquals(r.code, 1, line);
          assertMatch(r.stderr, needsTerminal[line], line);
          continue;
        }
        // without a terminal, consent is a flag, as the README says: the refusal names it, then
        // the line runs again with it
        const flag = /--auto-approve/.test(r.stderr)
          ? "--auto-approve"
          : /--yes\b/.test(r.stderr)
          ? "--yes"
          : undefined;
        if (r.code === 1 && flag) r = await net.sh(`${line} ${flag}`);
        assertEquals(r.code, 0, `${line}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
        const want = says[line];
        if (want && n === 1) assertMatch(r.stdout + r.stderr, want, line);
        if (line === "firestream cluster port-forward --detach") {
          // in place of `docker push`: the registry answers at the README's address
          const v2 = await net.sh(
            `"${Deno.execPath()}" eval 'console.log((await fetch("http://127.0.0.1:5000/v2/")).status)'`,
          );
          assertEquals(v2.stdout.trim(), "200", `registry at 127.0.0.1:5000: ${v2.stderr}`);
        }
      }
      for (const line of Object.keys(says)) assertOk(seen.has(line), `not in the README: ${line}`);
      await net.sh("firestream cluster delete --yes");
    } finally {
      net.stop();
    }
  });
});
