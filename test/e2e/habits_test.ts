/** End-to-end: the habits users bring from k3d, kubectl, Terraform and Unix tools: Ctrl-C, pipes, delete's preview, rollback, conventions. */
import { parse as parseYaml } from "yaml";
import { assertEquals, assertMatch, assertNotMatch, assertOk } from "../assert.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";
import { until } from "../wait.ts";
import { alive } from "./runs.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

Deno.test("a closed stdout ends quietly: `doctor | head -1` and `cluster logs | head -1` exit 0 with no error text", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.kube("firestream-local", (k, { addPod }) =>
      addPod(k, {
        namespace: "default",
        name: "chatty",
        containers: ["app"],
        logs: { app: Array.from({ length: 20000 }, (_, i) => `line ${i} ${"x".repeat(80)}`) },
      }));
    for (
      const args of [["doctor"], ["cluster", "logs", "pod", "chatty"], [
        "cluster",
        "logs",
        "chatty",
        "-f",
      ]]
    ) {
      // bash's PIPESTATUS gives the writer's exit code; sh has none, so run the pipe in bash
      const r = await new Deno.Command("bash", {
        args: [
          "-c",
          '"$@" 2>err.txt | head -1 >/dev/null; echo "${PIPESTATUS[0]}"',
          "bash",
          Deno.execPath(),
          "run",
          "-A",
          "--quiet",
          `${ROOT}/main.ts`,
          ...args,
        ],
        cwd: h.projectDir,
        env: h.env,
        clearEnv: true,
        stdout: "piped",
      }).output();
      assertEquals(new TextDecoder().decode(r.stdout).trim(), "0", args.join(" "));
      const err = Deno.readTextFileSync(`${h.projectDir}/err.txt`);
      assertNotMatch(err, "Broken pipe");
      assertNotMatch(err, "error");
    }
  });
});

Deno.test("delete previews every change it will undo before it asks, as terraform destroy does", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const r = (await h.state()).clusters["firestream-local"].resources;
    const registry = `127.0.0.1:${r.registry.port}`;
    const q = JSON.stringify;
    const containers = ["server-0", "agent-0", "agent-1", "serverlb"].map((n) =>
      `k3d-firestream-local-${n}`
    );
    const hostsLines = r.hosts_block.lines.map((l: string) => l.replace(/\s+/g, " "));
    // every resource block comes from the plan's renderer: each recorded value goes to null
    const blocks = (registryBlock: string[]) => [
      "  # cluster.firestream-local will be destroyed [destructive]",
      "  - cluster.firestream-local {",
      `      - containers = ${q(containers)} -> null`,
      '      - kube context = "k3d-firestream-local" -> null',
      "    }",
      "",
      ...registryBlock,
      "",
      "  # cluster.firestream-local.ingress-dns will be destroyed",
      "  - cluster.firestream-local.ingress-dns {",
      `      - coredns-custom firestream.server = ${
        q(`firestream.local → ${r.ingress_dns.addresses.join(", ")}`)
      } -> null`,
      "      # the coredns-custom ConfigMap goes when nothing else is in it",
      "    }",
      "",
      "  # cluster.firestream-local.routes will be destroyed",
      "  - cluster.firestream-local.routes {",
      ...r.routes.map((x: { cidr: string; via: string }) =>
        `      - route ${x.cidr} = ${q(x.via)} -> null`
      ),
      "    }",
      "",
      "  # cluster.firestream-local.dns will be destroyed",
      "  - cluster.firestream-local.dns {",
      `      - dns ${h.resolvConf} = ${
        q(`${r.dns.server} for ${r.dns.domains.join(" ")}`)
      } -> null`,
      "      # the `# BEGIN firestream firestream-local` blocks are removed",
      "    }",
      "",
      "  # cluster.firestream-local.hosts will be destroyed",
      "  - cluster.firestream-local.hosts {",
      `      - hosts block in ${h.hostsFile} = ${q(hostsLines)} -> null`,
      "      # the `# BEGIN firestream firestream-local` block",
      "    }",
      "",
    ];
    const preview = (registryBlock: string[], destroyed: number) => [
      "Resource actions are indicated with the following symbols:",
      "    - delete",
      "",
      "Firestream will undo the following for cluster firestream-local:",
      "",
      ...blocks(registryBlock),
      `Plan: 0 to add, 0 to change, 0 to replace, ${destroyed} to destroy.`,
      "",
      "",
    ];
    // without a terminal and without --yes: the preview, then the refusal; nothing changed
    const asked = await h.run(["cluster", "delete"]);
    assertEquals(asked.code, 1);
    assertMatch(asked.stderr, "confirmation needed");
    assertEquals(
      asked.stdout.split("\n"),
      preview([
        "  # cluster.firestream-local.registry will be destroyed",
        "  - cluster.firestream-local.registry {",
        '      - container = "k3d-registry.localhost" -> null',
        `      - address = ${q(registry)} -> null`,
        "    }",
      ], 6),
    );
    const keeping = await h.run(["cluster", "rm", "--keep-registry"]);
    assertEquals(keeping.code, 1);
    assertEquals(
      keeping.stdout.split("\n"),
      preview([
        "  # cluster.firestream-local.registry is kept",
        "    cluster.firestream-local.registry {",
        `      # k3d-registry.localhost (${registry}) kept: --keep-registry`,
        "    }",
      ], 5),
    );
    assertEquals(Object.keys(h.world().clusters), ["firestream-local"], "nothing was deleted");
    // --json carries the same changes, with their diffs
    const kept = await h.ok(["cluster", "rm", "--yes", "--keep-registry", "-o", "json"]);
    const doc = JSON.parse(kept.stdout);
    assertEquals([doc.cluster, doc.deleted], ["firestream-local", true]);
    assertEquals(doc.summary, { create: 0, update: 0, replace: 0, delete: 5 });
    assertEquals(
      doc.changes.map((c: { address: string; action: string }) => [c.address, c.action]),
      [
        ["cluster.firestream-local", "delete"],
        ["cluster.firestream-local.registry", "no-op"],
        ["cluster.firestream-local.ingress-dns", "delete"],
        ["cluster.firestream-local.routes", "delete"],
        ["cluster.firestream-local.dns", "delete"],
        ["cluster.firestream-local.hosts", "delete"],
      ],
    );
    assertEquals(doc.changes[0].diffs, [
      { key: "containers", from: containers, to: null },
      { key: "kube context", from: "k3d-firestream-local", to: null },
    ]);
    assertEquals(Object.keys(h.world().clusters), []);
    assertOk(h.world().containers["k3d-registry.localhost"], "the registry was kept");
  });
});

Deno.test("rollback of an interrupted run that created the record removes the record", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    // k3d is held until the run is interrupted
    h.hold("k3d cluster create");
    const child = h.spawn(["cluster", "create", "--yes"], { stderr: "piped" });
    let errors = "";
    const done = (async () => {
      for await (const c of child.stderr.pipeThrough(new TextDecoderStream())) errors += c;
    })();
    await until(
      "k3d cluster create to start",
      () => h.calls().some((c) => c.argv[0] === "cluster" && c.argv[1] === "create"),
    );
    child.kill("SIGINT");
    await until("the interrupt noted", () => errors.includes("stopping after the current step"));
    h.release("k3d cluster create");
    const status = await child.status;
    await done;
    assertEquals(status.code, 130, errors);
    assertMatch(errors, "cancelled: interrupted after");
    const r = await h.ok(["rollback", "--yes"]);
    assertMatch(r.stdout, "Rolled back run");
    assertEquals((await h.state()).clusters, {});
    const list = await h.ok(["cluster", "ls"]);
    assertEquals(list.stdout, "no clusters; create one with `firestream cluster create`\n");
  });
});

Deno.test("conventions: -o json|yaml, --no-headers, ls/rm aliases, version, completion, -auto-approve", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    // Terraform's single-dash flag is accepted wherever it makes sense
    const applied = await h.ok(["apply", "-auto-approve"]);
    assertMatch(applied.stdout, "Apply complete");
    const yaml = parseYaml((await h.ok(["cluster", "ls", "-o", "yaml"])).stdout);
    const json = JSON.parse((await h.ok(["cluster", "list", "-o", "json"])).stdout);
    assertEquals(yaml, json);
    assertEquals(json[0].name, "firestream-local");
    const info = parseYaml((await h.ok(["cluster", "info", "-o", "yaml"])).stdout);
    assertEquals(info.name, "firestream-local");
    const state = parseYaml((await h.ok(["state", "show", "--output", "yaml"])).stdout);
    assertEquals(Object.keys(state.clusters), ["firestream-local"]);
    const plan = parseYaml((await h.ok(["plan", "-o", "yaml"])).stdout);
    assertEquals(plan.format, "firestream-plan");
    const table = await h.ok(["cluster", "ls"]);
    assertMatch(table.stdout, /^NAME\s+MANAGED/);
    const bare = await h.ok(["cluster", "ls", "--no-headers"]);
    assertEquals(bare.stdout, table.stdout.split("\n").slice(1).join("\n"));
    const version = await h.ok(["version"]);
    assertEquals(version.stdout, (await h.ok(["--version"])).stdout);
    assertEquals(JSON.parse((await h.ok(["version", "--json"])).stdout).version, "0.1.0");
    assertEquals(
      (await h.ok(["completion", "bash"])).stdout,
      (await h.ok(["completions", "bash"])).stdout,
    );
    const bad = await h.run(["cluster", "ls", "-o", "xml"]);
    assertEquals(bad.code, 1);
    assertMatch(bad.stderr, "Allowed choices are json, yaml");
    const removed = await h.ok(["cluster", "rm", "-auto-approve"]);
    assertMatch(removed.stdout, "Cluster firestream-local deleted.");
    // the delete kept the version the apply left
    assertEquals(
      (await h.ok(["state", "backups", "--no-headers"])).stdout.split("\n")[0].split(/\s+/)[0]
        .match(/^\d+$/) !== null,
      true,
    );
  });
});

Deno.test("help: every subcommand shows the global options; every group has an example; plan explains its symbols once", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    for (
      const c of [
        ["cluster"],
        ["state"],
        ["import"],
        ["cluster", "logs"],
        ["cluster", "delete"],
        ["state", "show"],
        ["apply"],
        ["version"],
        ["completion"],
      ]
    ) {
      const r = await h.ok([...c, "--help"]);
      assertMatch(r.stdout, "Global Options:", c.join(" "));
      for (const flag of ["--json", "-o, --output", "-y, --yes", "-c, --config", "-q, --quiet"]) {
        assertMatch(r.stdout, flag, `${c.join(" ")} --help lists ${flag}`);
      }
      assertMatch(r.stdout, "Examples:\n  $ ", c.join(" "));
    }
    const plan = await h.ok(["plan"]);
    const legend = plan.stdout.indexOf(
      "Resource actions are indicated with the following symbols:",
    );
    assertOk(legend === 0, plan.stdout);
    assertMatch(plan.stdout, "    + create\n");
    assertEquals(plan.stdout.split("following symbols").length, 2, "once");
  });
});

Deno.test("progress: a live line with elapsed time on a terminal, plain lines when piped, --quiet only the result; no resolver debug text", async () => {
  await withSimHost({ config: testConfig({ network: true }) }, async (h) => {
    h.latency(0, { "k3d cluster create": 2500 });
    const closed = (() => {
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      const port = (l.addr as Deno.NetAddr).port;
      l.close();
      return `127.0.0.1:${port}`;
    })();
    const env = { ...h.env, FIRESTREAM_DNS_PROBE: closed, TERM: "xterm" };
    // `script` gives the command a real pseudo-terminal
    const command = [
      Deno.execPath(),
      "run",
      "-A",
      "--quiet",
      `${ROOT}/main.ts`,
      "cluster",
      "create",
      "--yes",
    ]
      .map((a) => `'${a}'`).join(" ");
    const tty = await new Deno.Command("script", {
      args: ["-qefc", command, "/dev/null"],
      cwd: h.projectDir,
      env,
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const screen = new TextDecoder().decode(tty.stdout);
    assertEquals(tty.code, 0, screen);
    // the escape is the live line's own: erase the row, redraw it
    // (a whole second at least: the call takes 2.5 s, however busy the machine)
    // deno-lint-ignore no-control-regex
    assertMatch(screen, /\r\x1b\[2K\S+ k3d cluster… [1-9]\d*s/, "a live line with elapsed seconds");
    assertMatch(screen, /✓ k3d cluster \(\d/);
    assertNotMatch(screen, "→ k3d cluster…");
    assertMatch(screen, /DNS (resolution )?test/);
    for (const text of ["Query {", "proto error", "os error"]) assertNotMatch(screen, text);

    await h.ok(["cluster", "delete", "--yes"]);
    const piped = await h.run(["cluster", "create", "--yes"], {
      env: { FIRESTREAM_DNS_PROBE: closed },
    });
    assertEquals(piped.code, 0, piped.stderr);
    assertMatch(piped.stderr, "→ k3d cluster…\n");
    assertNotMatch(piped.stderr, "\r");
    assertNotMatch(piped.stderr, "\x1b[");

    await h.ok(["cluster", "delete", "--yes"]);
    h.latency(0);
    const quiet = await h.run(["cluster", "create", "--yes", "--quiet"]);
    assertEquals(quiet.code, 0, quiet.stderr);
    assertEquals(quiet.stderr, "");
    assertMatch(quiet.stdout, "Cluster firestream-local is ready.");
  });
});

Deno.test("rollback after a crash in which the cluster never came to be leaves no record of it", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    // k3d is held until the run is killed, then fails
    h.hold("k3d cluster create");
    h.fault("k3d cluster create", "FATA[0000] Failed to create cluster: simulated", { times: 1 });
    const child = h.spawn(["cluster", "create", "--yes"]);
    await until(
      "k3d cluster create to start",
      () => h.calls().some((c) => c.argv[0] === "cluster" && c.argv[1] === "create"),
    );
    child.kill("SIGKILL");
    await child.status;
    h.release("k3d cluster create");
    await until("the orphaned k3d to end", () => h.calls().every((c) => !alive(c.pid)));
    assertEquals(Object.keys(h.world().clusters), [], "k3d failed: the cluster never existed");
    const r = await h.ok(["rollback", "--yes"]);
    assertMatch(r.stdout, "Rolled back run");
    assertEquals((await h.state()).clusters, {});
    assertEquals(Object.keys(h.world().containers), [], "the registry it made is gone too");
    assertEquals(
      (await h.ok(["cluster", "ls"])).stdout,
      "no clusters; create one with `firestream cluster create`\n",
    );
  });
});

Deno.test("a switch given =false is off: `cluster delete --yes=false` and `apply --auto-approve=false` without a terminal change nothing and exit 1 naming the flag", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const before = h.stateBytes();
    const world = JSON.stringify(h.world());
    const unchanged = (what: string) => {
      assertEquals(h.stateBytes(), before, `${what}: state changed`);
      assertEquals(JSON.stringify(h.world()), world, `${what}: the machine changed`);
    };
    for (const args of [["cluster", "delete", "--yes=false"], ["--yes=false", "cluster", "rm"]]) {
      const r = await h.run(args);
      assertEquals(r.code, 1, `${args.join(" ")}\n${r.stderr}`);
      assertMatch(r.stderr, "confirmation needed");
      assertMatch(r.stderr, "--yes");
      unchanged(args.join(" "));
    }
    // a change to apply: one more agent
    const config = Deno.readTextFileSync(`${h.projectDir}/firestream.toml`);
    h.writeConfig(config.replace("[cluster.k3d]\n", "[cluster.k3d]\nagents = 3\n"));
    for (const flag of ["--auto-approve=false", "-auto-approve=false"]) {
      const r = await h.run(["apply", flag]);
      assertEquals(r.code, 1, `apply ${flag}\n${r.stderr}`);
      assertMatch(r.stderr, "confirmation needed");
      assertMatch(r.stderr, "--auto-approve");
      unchanged(`apply ${flag}`);
    }
    // any other value is refused in one line naming the flag, before anything runs
    for (const args of [["cluster", "delete", "--yes=0"], ["apply", "--auto-approve=no"]]) {
      h.clearCalls();
      const r = await h.run(args);
      assertEquals(r.code, 1);
      assertEquals(r.stderr.trim().split("\n").length, 1, r.stderr);
      assertMatch(r.stderr, /^error: option '(-y, --yes|--auto-approve)' takes no value/);
      assertEquals(h.calls().length, 0);
      unchanged(args.join(" "));
    }
  });
});
