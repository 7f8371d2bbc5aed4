/** End-to-end: init in a real terminal and without one, help everywhere, version, completions, compile targets, no run-time source reads. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { type SimHost, testConfig, withSimHost } from "../sim/harness.ts";
import { findProgram, requireReal, run } from "../real/require.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const tmux = findProgram("tmux");
const hasTmux = requireReal("tmux (a pseudo-terminal for prompts)", Boolean(tmux), "install tmux");

/** `firestream init` in a tmux pane: send keys, read the screen, wait for text. */
async function initInTmux(h: SimHost) {
  const sock = `fs-${Deno.pid}-${crypto.randomUUID().slice(0, 6)}`;
  const env = Object.entries({ ...h.env, TERM: "xterm-256color" }).map(([k, v]) => `${k}=${v}`);
  const tm = (...args: string[]) => run(tmux!, ["-L", sock, ...args]);
  const started = await tm(
    "new-session",
    "-d",
    "-s",
    "init",
    "-x",
    "160",
    "-y",
    "60",
    "-c",
    h.projectDir,
    "env",
    "-i",
    ...env,
    "sh",
    "-c",
    '"$@"; echo "EXIT=$?"; sleep 60',
    "sh",
    Deno.execPath(),
    "run",
    "-A",
    "--quiet",
    `${ROOT}/main.ts`,
    "init",
  );
  assertEquals(started.code, 0, started.stderr);
  const screen = async () => (await tm("capture-pane", "-p", "-t", "init", "-S", "-200")).stdout;
  const waitFor = async (text: string) => {
    const end = Date.now() + 120_000;
    while (!(await screen()).includes(text)) {
      if (Date.now() > end) throw new Error(`no "${text}" on screen:\n${await screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { tm, screen, waitFor };
}

Deno.test({
  name:
    "init in a real terminal: answers typed (a bad name and a registry port in use refused as typed), file written as answered",
  ignore: !hasTmux,
}, async () => {
  await withSimHost({}, async (h) => {
    // a port in use on this host: refused right after it is typed, the other answers kept
    const held = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const busy = (held.addr as Deno.NetAddr).port;
    const { tm, waitFor } = await initInTmux(h);
    const answer = async (prompt: string, ...keys: string[]) => {
      await waitFor(prompt);
      await tm("send-keys", "-t", "init", ...keys);
    };
    try {
      await answer("Cluster name", "C-u", "Bad_Name", "Enter");
      await waitFor("a lowercase hostname of at most 32 characters");
      await tm("send-keys", "-t", "init", "C-u", "demo-app", "Enter");
      await answer("Server nodes", "Enter");
      await answer("Agent nodes", "BSpace", "3", "Enter");
      await answer("k3s version", "Enter");
      await answer("Create a local registry?", "Enter");
      const erase = Array(6).fill("BSpace");
      await answer("Registry port", ...erase, String(busy), "Enter");
      await waitFor(`port ${busy} is in use on this host; choose another`);
      await tm("send-keys", "-t", "init", ...erase, "6000", "Enter");
      await answer("Generate TLS certificates?", "Enter");
      await answer("Domain for the wildcard certificate", "C-u", "demo.test", "Enter");
      await answer("Route pod and service networks to this host? (needs sudo)", "n", "Enter");
      await answer("Resolve cluster DNS names on this host? (needs sudo)", "n", "Enter");
      await answer("Add the registry and domain to /etc/hosts? (needs sudo)", "y", "Enter");
      await answer("Forward every service to localhost (dev mode)?", "y", "Enter");
      await answer("Port offset", "C-u", "20000", "Enter");
      await answer("Write firestream.toml?", "Enter");
      await waitFor("EXIT=0");
    } finally {
      await tm("kill-server");
      held.close();
    }
    const text = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    for (
      const line of [
        'name = "demo-app"',
        "agents = 3",
        "port = 6000",
        'common_name = "*.demo.test"',
        "configure_routes = false",
        "configure_dns = false",
        "patch_etc_hosts = true",
        "port_forward_all = true",
        "port_offset = 20000",
      ]
    ) {
      assertMatch(text, line);
    }
    const show = await h.ok(["state", "show"]);
    assertMatch(show.stdout, "clusters:  none", "the file loads");
  });
});

Deno.test({
  name: "init cancelled with Ctrl-C in a real terminal: `cancelled`, exit 130, no file written",
  ignore: !hasTmux,
}, async () => {
  await withSimHost({}, async (h) => {
    const { tm, screen, waitFor } = await initInTmux(h);
    try {
      await waitFor("Cluster name");
      await tm("send-keys", "-t", "init", "Enter");
      await waitFor("Server nodes");
      await tm("send-keys", "-t", "init", "C-c");
      await waitFor("EXIT=");
      const text = await screen();
      assertMatch(text, "cancelled");
      assertMatch(text, "EXIT=130");
      assertEquals(text.includes("force closed"), false, text);
    } finally {
      await tm("kill-server");
    }
    assertEquals([...Deno.readDirSync(h.projectDir)].map((e) => e.name), [], "nothing written");
  });
});

Deno.test("init without a terminal finishes on defaults and flags; refuses to overwrite without --force", async () => {
  await withSimHost({}, async (h) => {
    const r = await h.ok(["init", "--agents", "1", "--no-host-network"]);
    assertMatch(r.stdout, "Wrote firestream.toml");
    const text = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    assertMatch(text, "agents = 1");
    assertMatch(text, "configure_routes = false");
    const again = await h.run(["init"]);
    assertEquals(again.code, 1);
    assertMatch(again.stderr, "firestream.toml already exists");
    await h.ok(["init", "--force", "--name", "other"]);
    assertMatch(Deno.readTextFileSync(`${h.projectDir}/firestream.toml`), 'name = "other"');
    const bad = await h.run(["init", "--force", "--servers", "0"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, "servers");
  });
});

Deno.test("every command has --help with an example; --version names version, Deno and platform", async () => {
  await withSimHost({}, async (h) => {
    const version = await h.ok(["--version"]);
    assertEquals(
      version.stdout.trim(),
      `firestream 0.1.0 (deno ${Deno.version.deno}, ${Deno.build.os} ${Deno.build.arch})`,
    );
    const commands = [
      ["init"],
      ["plan"],
      ["apply"],
      ["rollback"],
      ["doctor"],
      ["import", "cluster"],
      ["cluster", "create"],
      ["cluster", "delete"],
      ["cluster", "list"],
      ["cluster", "info"],
      ["cluster", "port-forward"],
      ["cluster", "logs"],
      ["cluster", "diagnostics"],
      ["cluster", "trust"],
      ["state", "show"],
      ["state", "backups"],
      ["state", "restore"],
      ["state", "unlock"],
      ["completions"],
      ["completion"],
      ["version"],
      ["cluster"],
      ["state"],
      ["import"],
    ];
    for (const c of commands) {
      const r = await h.run([...c, "--help"]);
      assertEquals(r.code, 0, c.join(" "));
      assertMatch(r.stdout, `Usage: firestream ${c.join(" ")}`);
      assertMatch(r.stdout, "Examples:\n  $ ", c.join(" "));
    }
    const create = await h.ok(["cluster", "create", "--help"]);
    for (const flag of ["--name", "--servers", "--agents", "--dev-mode", "--clean", "--config"]) {
      assertMatch(create.stdout, flag);
    }
    const unknown = await h.run(["clustr"]);
    assertEquals(unknown.code, 1);
    assertMatch(unknown.stderr, "(Did you mean cluster?)");
  });
});

/**
 * The bash script from `completions bash`, and a function that runs it on a command line (as bash
 * 5 splits it: `--flag=` is three words) in a real bash; anything it prints on stderr fails.
 */
async function bashCompleter(h: SimHost, env?: Record<string, string>) {
  const file = `${h.root}/firestream.bash`;
  Deno.writeTextFileSync(file, (await h.ok(["completions", "bash"])).stdout);
  return async (words: string[]) => {
    const r = await run("bash", [
      "-c",
      `source "$1"; complete -p firestream >/dev/null || exit 9; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _firestream; echo "\${COMPREPLY[*]}"`,
      "bash",
      file,
      ...words,
    ], env ? { env, cwd: h.projectDir } : {});
    assertEquals([r.code, r.stderr], [0, ""], words.join(" "));
    return r.stdout.trim();
  };
}

Deno.test("completion scripts: bash parses and completes; zsh and fish are generated", async () => {
  await withSimHost({}, async (h) => {
    const complete = await bashCompleter(h);
    assertEquals((await run("bash", ["-n", `${h.root}/firestream.bash`])).code, 0);
    assertEquals(await complete(["firestream", "cluster", "po"]), "port-forward");
    assertEquals(await complete(["firestream", "cluster", "create", "--ag"]), "--agents");
    assertEquals(await complete(["firestream", "--json", "sta"]), "state");
    assertEquals(await complete(["firestream", "cluster", "logs", "--fol"]), "--follow");
    // flag values the parser knows, in every spelling
    assertEquals(await complete(["firestream", "-qo", ""]), "json yaml");
    assertEquals(await complete(["firestream", "--output", "=", ""]), "json yaml");
    assertEquals(
      await complete(["firestream", "cluster", "delete", "--yes", "=", ""]),
      "true false",
    );
    assertEquals(await complete(["firestream", "cluster", "trust", "--store", "n"]), "nss");
    assertEquals(await complete(["firestream", "cluster", "create", "--agents", ""]), "");
    // a switch spelled the other way round
    assertEquals(await complete(["firestream", "init", "--tls"]), "--no-tls");
    assertEquals(await complete(["firestream", "init", "--no-force"]), "--force");
    assertMatch((await h.ok(["completions", "zsh"])).stdout, "#compdef firestream");
    assertMatch(
      (await h.ok(["completions", "fish"])).stdout,
      "complete -c firestream -n '__fish_seen_subcommand_from cluster' -a 'create'",
    );
    assertEquals((await h.run(["completions", "tcsh"])).code, 1);
  });
});

Deno.test("completions name live things: clusters from state, services and namespaces of the running cluster, files, enum values", async () => {
  const profile = "\n[profiles.ci.cluster.k3d]\nagents = 0\n";
  await withSimHost({ config: testConfig({ extra: profile }) }, async (h) => {
    // `firestream` on PATH, as an installed binary would be
    const bin = `${h.root}/bin`;
    Deno.mkdirSync(bin);
    Deno.writeTextFileSync(
      `${bin}/firestream`,
      `#!/bin/sh\nexec "${Deno.execPath()}" run -A --quiet "${ROOT}/main.ts" "$@"\n`,
    );
    Deno.chmodSync(`${bin}/firestream`, 0o755);
    const complete = await bashCompleter(h, { ...h.env, PATH: `${bin}:${h.env.PATH}` });
    // no cluster yet: silent, and quick to give up
    assertEquals(await complete(["firestream", "cluster", "port-forward", ""]), "");
    assertEquals(await complete(["firestream", "cluster", "logs", ""]), "pod deployment service");
    assertEquals(await complete(["firestream", "cluster", "logs", "-c", ""]), "");
    assertEquals((await h.run(["__complete", "services"])).stdout, "");
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addService, addPod, addDeployment }) => {
      addService(k, { namespace: "default", name: "web-frontend", ports: [8080] });
      addService(k, { namespace: "kube-system", name: "web-metrics", ports: [9100] });
      addService(k, { namespace: "dev", name: "api", ports: [9000] });
      addPod(k, { namespace: "default", name: "web-1", containers: ["app", "sidecar"] });
      addDeployment(k, { namespace: "default", name: "worker", containers: ["job", "log"] });
    });
    // `cluster logs` with no operand yet: no bash error (an empty array has no last element)
    assertEquals(
      await complete(["firestream", "cluster", "logs", "we"]),
      "web-1",
    );
    // containers after `cluster logs -c`, of the pod or deployment named, or of every pod
    assertEquals(
      await complete(["firestream", "cluster", "logs", "web-1", "-c", ""]),
      "app sidecar",
    );
    assertEquals(
      await complete(["firestream", "cluster", "logs", "pod", "web-1", "--container", "s"]),
      "sidecar",
    );
    assertEquals(
      await complete(["firestream", "cluster", "logs", "deployment/worker", "-c", ""]),
      "job log",
    );
    assertMatch(await complete(["firestream", "cluster", "logs", "-c", ""]), /\bapp\b.*\bjob\b/);
    // the config's profiles
    assertEquals(await complete(["firestream", "plan", "--profile", ""]), "ci");
    // before `cluster`, -c is the config file
    assertEquals(await complete(["firestream", "-c", "firestream.t"]), "firestream.toml");
    // port-forward offers what it would forward: never the API server's own `kubernetes`
    assertEquals(
      await complete(["firestream", "cluster", "port-forward", ""]),
      "api.dev web-frontend",
    );
    // the serials of the state's backups: a second command that writes the state keeps the first
    // one's version
    await h.ok(["cluster", "create", "--agents", "1", "--yes"]);
    const serials = JSON.parse((await h.ok(["state", "backups", "--json"])).stdout)
      .map((b: { serial: number }) => String(b.serial));
    assertOk(serials.length > 0);
    assertEquals(
      (await complete(["firestream", "state", "restore", ""])).split(" ").sort(),
      [...serials].sort(),
    );
    assertEquals(await complete(["firestream", "cluster", "delete", "fire"]), "firestream-local");
    assertEquals(await complete(["firestream", "cluster", "rm", ""]), "firestream-local");
    assertEquals(await complete(["firestream", "cluster", "port-forward", "web"]), "web-frontend");
    assertEquals(
      await complete(["firestream", "cluster", "port-forward", "-n", "kube-system", "web"]),
      "web-metrics",
    );
    assertEquals(
      await complete(["firestream", "cluster", "logs", "service", "web-f"]),
      "web-frontend",
    );
    assertEquals(
      await complete(["firestream", "cluster", "logs", "-n", "kube-"]),
      "kube-node-lease kube-public kube-system",
    );
    assertEquals(await complete(["firestream", "--log-level", "d"]), "debug");
    assertEquals(await complete(["firestream", "cluster", "ls", "-o", ""]), "json yaml");
    assertEquals(await complete(["firestream", "completion", ""]), "bash zsh fish");
    Deno.writeTextFileSync(`${h.projectDir}/saved.plan`, "{}");
    assertEquals(await complete(["firestream", "apply", "sav"]), "saved.plan");
    assertEquals(await complete(["firestream", "-c", "firestream.t"]), "firestream.toml");
    assertEquals(await complete(["firestream", "plan", "--out", "sav"]), "saved.plan");
    const fish = (await h.ok(["completions", "fish"])).stdout;
    assertMatch(fish, "(firestream __complete clusters 2>/dev/null)");
  });
});

Deno.test("compile task: four targets, version stamped from deno.json", async () => {
  const r = await run(Deno.execPath(), ["run", "-A", `${ROOT}/scripts/compile.ts`, "--list"]);
  assertEquals(r.code, 0, r.stderr);
  assertEquals(r.stdout.trim().split("\n").map((l) => l.split("\t")[0]), [
    "x86_64-unknown-linux-gnu",
    "aarch64-unknown-linux-gnu",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
  ]);
  const bad = await run(Deno.execPath(), [
    "run",
    "-A",
    `${ROOT}/scripts/compile.ts`,
    "--target",
    "sparc-sun-solaris",
  ]);
  assertEquals(bad.code, 1);
  assertMatch(bad.stderr, "unknown target sparc-sun-solaris");
});

Deno.test("no run-time reads of sources: main.ts works from another directory with reads limited to the project", async () => {
  // as the release binary runs it: every module loaded up front (deno.json's lazy dynamic imports
  // load modules on first use, from the sources, which is what `deno run` from a clone does)
  const meta = JSON.parse(Deno.readTextFileSync(`${ROOT}/deno.json`));
  const { unstable: _, ...eager } = meta;
  const config = `${ROOT}/.deno.eager.${Deno.pid}.json`;
  Deno.writeTextFileSync(config, JSON.stringify(eager));
  try {
    await restrictedRuns(config);
  } finally {
    Deno.removeSync(config);
  }
});

async function restrictedRuns(config: string): Promise<void> {
  await withSimHost({ config: testConfig() }, async (h) => {
    // the project, system files, and the directories on PATH (programs are looked up there); not the sources
    const path = h.env.PATH.split(":").filter((d) => d && !d.startsWith(`${ROOT}/src`));
    assertOk(
      !path.some((d) => d === ROOT || d.startsWith(`${ROOT}/src`) || d.startsWith(`${ROOT}/tasks`)),
    );
    const allowRead = [h.root, "/etc", "/proc", "/sys", "/dev", ...path].join(",");
    const restricted = async (args: string[]) => {
      const child = new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--quiet",
          `--allow-read=${allowRead}`,
          `--allow-write=${h.root}`,
          "--allow-env",
          "--allow-run",
          "--allow-net=127.0.0.1,0.0.0.0",
          "--allow-sys",
          "--config",
          config,
          `${ROOT}/main.ts`,
          ...args,
        ],
        cwd: h.projectDir,
        env: h.env,
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      });
      const out = await child.output();
      return {
        code: out.code,
        stdout: new TextDecoder().decode(out.stdout),
        stderr: new TextDecoder().decode(out.stderr),
      };
    };
    for (
      const args of [
        ["--version"],
        ["--help"],
        ["plan", "--detailed-exitcode"],
        ["cluster", "create", "--yes"],
        ["cluster", "info", "--json"],
        ["completions", "bash"],
        ["doctor", "--json"],
      ]
    ) {
      const r = await restricted(args);
      assertOk(
        r.code === 0 || (args[0] === "plan" && r.code === 2),
        `${args.join(" ")} exited ${r.code}: ${r.stderr}`,
      );
      assertEquals(
        r.stderr.includes("NotCapable") || r.stderr.includes("Requires read access"),
        false,
        r.stderr,
      );
    }
  });
}
