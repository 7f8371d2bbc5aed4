/**
 * Several projects on one machine: nothing one project does destroys what another one uses. Each
 * scenario ends with every project's `plan --detailed-exitcode` at 0 and the others' things intact.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { existsSync } from "../../src/state/fs.ts";
import { type CliResult, type SimHost, testConfig, withSimHost } from "../sim/harness.ts";

/** A project folder under the machine's root, with `init --yes` run in it (extra flags after). */
async function project(h: SimHost, name: string, ...flags: string[]): Promise<string> {
  const dir = `${h.root}/${name}`;
  Deno.mkdirSync(dir, { recursive: true });
  await expectCode(h.run(["init", "--yes", "--no-dev-mode", ...flags], { cwd: dir }), 0);
  return dir;
}

async function expectCode(run: Promise<CliResult>, code: number): Promise<CliResult> {
  const r = await run;
  assertEquals(r.code, code, `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

/** `plan --detailed-exitcode` in `dir` exits 0: the project is converged. */
async function converged(h: SimHost, dir: string): Promise<void> {
  await expectCode(h.run(["plan", "--detailed-exitcode"], { cwd: dir }), 0);
}

function toml(dir: string): string {
  return Deno.readTextFileSync(`${dir}/firestream.toml`);
}

function value(text: string, key: string): string {
  const m = new RegExp(`^${key} = (.+)$`, "m").exec(text);
  if (!m) throw new Error(`no ${key} in\n${text}`);
  return m[1];
}

const REGISTRY = "k3d-registry.localhost";

Deno.test("many projects: init --yes in three folders, then cluster create in each: side by side, one shared registry, each converged", async () => {
  await withSimHost({}, async (h) => {
    const dirs = [];
    for (const name of ["shop", "blog", "docs"]) {
      const dir = await project(h, name);
      await expectCode(h.run(["cluster", "create", "--yes"], { cwd: dir }), 0);
      dirs.push(dir);
    }
    const [shop, blog, docs] = dirs.map(toml);
    // the cluster is named after its folder; ports and networks differ; the registry is shared
    for (const [i, name] of ["shop", "blog", "docs"].entries()) {
      assertMatch(toml(dirs[i]), new RegExp(`\\[cluster\\.k3d\\]\\n(#.*\\n)*name = "${name}"\\n`));
    }
    assertEquals(new Set([shop, blog, docs].map((t) => value(t, "api_port"))).size, 3);
    assertEquals(new Set([shop, blog, docs].map((t) => value(t, "pod_cidr"))).size, 3);
    assertEquals(new Set([shop, blog, docs].map((t) => value(t, "service_cidr"))).size, 3);
    assertEquals(shop.includes("[cluster]\n"), false, "no empty [cluster] table");
    // cluster.local on the host leads to one cluster: the first project's
    assertEquals([shop, blog, docs].map((t) => value(t, "configure_dns")), [
      "true",
      "false",
      "false",
    ]);
    assertEquals(value(shop, "port_forward_all"), "false");
    const w = h.world();
    assertEquals(Object.keys(w.clusters).sort(), ["blog", "docs", "shop"]);
    assertEquals(
      Object.keys(w.containers[REGISTRY].networks).filter((n) => n.startsWith("k3d-")).sort(),
      ["k3d-blog", "k3d-docs", "k3d-shop"],
    );
    for (const dir of dirs) await converged(h, dir);

    // the first project goes: the registry stays for the two others, and says so
    const before = h.world().containers[REGISTRY].id;
    const r = await expectCode(h.run(["cluster", "delete", "--yes"], { cwd: dirs[0] }), 0);
    assertMatch(r.stdout, `kept: also used by ${dirs[1]} (cluster blog); also used by ${dirs[2]}`);
    assertEquals(h.world().containers[REGISTRY].id, before);
    assertEquals(Object.keys(h.world().clusters).sort(), ["blog", "docs"]);
    for (const dir of dirs.slice(1)) await converged(h, dir);
  });
});

Deno.test("many projects: a second project wanting the shared registry on another port is refused at plan, naming the first folder; the first keeps its registry", async () => {
  await withSimHost({}, async (h) => {
    const a = await project(h, "shop");
    await expectCode(h.run(["cluster", "create", "--yes"], { cwd: a }), 0);
    const registry = h.world().containers[REGISTRY];
    const b = await project(h, "blog");
    const port = Number(value(toml(b), "port"));
    assertEquals(value(toml(a), "port"), String(port), "init shares the registry on its port");
    Deno.writeTextFileSync(
      `${b}/firestream.toml`,
      toml(b).replace(`port = ${port}\n`, `port = ${port + 1}\n`),
    );
    h.clearCalls();
    for (const args of [["plan"], ["cluster", "create", "--yes"]]) {
      const r = await expectCode(h.run(args, { cwd: b }), 1);
      assertMatch(
        r.stderr,
        `registry registry.localhost (${REGISTRY}) is shared with cluster shop (managed from ${a}) on port ${port}; this config wants port ${
          port + 1
        }`,
      );
      assertMatch(r.stderr, `set cluster.k3d.registry.port = ${port} to share it`);
    }
    assertEquals(h.mutatingCalls(), [], "refused before any call");
    // with its own registry, the second project is made beside the first
    await expectCode(
      h.run(["init", "--yes", "--no-dev-mode", "--force", "--own-registry"], { cwd: b }),
      0,
    );
    assertMatch(toml(b), 'name = "blog-registry.localhost"');
    await expectCode(h.run(["cluster", "create", "--yes"], { cwd: b }), 0);
    const w = h.world();
    assertEquals(w.containers[REGISTRY].id, registry.id, "the first project's registry stands");
    assertEquals(Boolean(w.containers["k3d-blog-registry.localhost"]), true);
    await converged(h, a);
    await converged(h, b);
  });
});

Deno.test("many projects: --purge-certs keeps a CA another project's cluster uses and says so; the last user removes it; doctor fails a missing registry", async () => {
  await withSimHost({}, async (h) => {
    const a = await project(h, "shop");
    const b = await project(h, "blog");
    for (const dir of [a, b]) {
      await expectCode(h.run(["cluster", "create", "--yes"], { cwd: dir }), 0);
    }
    const ca = `${h.home}/certs/firestream-ca.crt`;
    const caText = Deno.readTextFileSync(ca);
    const r = await expectCode(
      h.run(["cluster", "delete", "--yes", "--purge-certs"], { cwd: a }),
      0,
    );
    assertMatch(r.stdout, `the CA ${ca} is kept: also used by ${b} (cluster blog)`);
    assertMatch(r.stdout + r.stderr, `keeping the CA ${ca}: also used by ${b} (cluster blog)`);
    assertEquals(Deno.readTextFileSync(ca), caText, "the CA is the same one");
    assertEquals(existsSync(`${h.home}/certs/shop`), false, "its own certificates went");
    await converged(h, b);
    const ok = await expectCode(h.run(["doctor", "--json"], { cwd: b }), 0);
    const checks = JSON.parse(ok.stdout).checks as { name: string; status: string }[];
    assertEquals(checks.find((c) => c.name === "CA (blog)")?.status, "pass");
    assertEquals(checks.find((c) => c.name === "registry (blog)")?.status, "pass");

    // a registry stopped, or gone, from under the cluster is a failed check with its fix
    const registryCheck = async () => {
      const r = await h.run(["doctor", "--json"], { cwd: b });
      return (JSON.parse(r.stdout).checks as { name: string; status: string; fix?: string }[])
        .find((c) => c.name === "registry (blog)")!;
    };
    await h.tool("docker", ["stop", REGISTRY]);
    const stopped = await registryCheck();
    assertEquals(stopped.status, "fail");
    assertMatch(stopped.fix ?? "", `docker start ${REGISTRY}`);
    await h.tool("k3d", ["registry", "delete", REGISTRY]);
    const missing = await registryCheck();
    assertEquals(missing.status, "fail");
    assertMatch(missing.fix ?? "", "run `firestream apply`");
    await expectCode(h.run(["apply", "--yes"], { cwd: b }), 0);
    assertEquals((await registryCheck()).status, "pass");
    await converged(h, b);

    // the last user takes the CA with it
    const last = await expectCode(
      h.run(["cluster", "delete", "--yes", "--purge-certs"], { cwd: b }),
      0,
    );
    assertMatch(last.stdout, `- CA = "${ca}" -> null`);
    assertEquals(existsSync(ca), false, "the last user removed the CA");
  });
});

Deno.test("many projects: another folder (a subfolder on the defaults) is told where the cluster is managed, never to import it; import refuses; it then makes its own", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const sub = `${h.projectDir}/web`;
    Deno.mkdirSync(sub);
    h.clearCalls();
    const plan = await expectCode(h.run(["plan"], { cwd: sub }), 1);
    assertMatch(plan.stderr, `k3d cluster firestream-local is managed from ${h.projectDir}\n`);
    const info = await expectCode(
      h.run(["cluster", "info", "firestream-local"], { cwd: sub }),
      0,
    );
    assertMatch(info.stdout, `(managed from ${h.projectDir})`);
    const doctor = await h.run(["doctor"], { cwd: sub });
    assertMatch(doctor.stdout, `cluster firestream-local is managed from ${h.projectDir}`);
    for (const r of [plan, info, doctor]) {
      assertEquals(/import cluster/.test(r.stdout + r.stderr), false, r.stdout + r.stderr);
    }
    const imp = await expectCode(
      h.run(["import", "cluster", "firestream-local"], { cwd: sub }),
      1,
    );
    assertMatch(imp.stderr, `cluster firestream-local is managed from ${h.projectDir}\n`);
    assertMatch(imp.stderr, "--take-over");
    const del = await expectCode(
      h.run(["cluster", "delete", "firestream-local", "--yes"], { cwd: sub }),
      1,
    );
    assertMatch(del.stderr, `cluster firestream-local is managed from ${h.projectDir}`);
    assertEquals(h.mutatingCalls(), []);
    assertEquals(existsSync(`${sub}/.firestream/state.json`), false, "nothing recorded there");

    // its own project, made beside the first
    await expectCode(h.run(["init", "--yes", "--no-dev-mode"], { cwd: sub }), 0);
    await expectCode(h.run(["cluster", "create", "--yes"], { cwd: sub }), 0);
    assertEquals(Object.keys(h.world().clusters).sort(), ["firestream-local", "web"]);
    await converged(h, h.projectDir);
    await converged(h, sub);
  });
});

Deno.test("many projects: import --take-over moves a cluster on purpose: the first folder's plan says so and its delete touches nothing", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const b = `${h.root}/other`;
    Deno.mkdirSync(b);
    const took = await expectCode(
      h.run(["import", "cluster", "firestream-local", "--take-over"], { cwd: b }),
      0,
    );
    assertMatch(took.stdout, `Took it over from ${h.projectDir}`);
    const plan = await h.ok(["plan"], 1);
    assertMatch(
      plan.stderr,
      `cluster firestream-local is now managed from ${b} (taken over with \`import cluster --take-over\`)`,
    );
    assertMatch(plan.stderr, "`firestream state rm firestream-local`");
    h.clearCalls();
    await h.ok(["cluster", "delete", "--yes"], 1);
    assertEquals(h.mutatingCalls(), []);
    await h.ok(["state", "rm", "firestream-local"]);
    assertEquals(Boolean(h.world().clusters["firestream-local"]), true);
    await expectCode(
      h.run(["import", "cluster", "firestream-local", "--write-config"], { cwd: b }),
      0,
    );
    await converged(h, b);
  });
});

Deno.test("many projects: state rm, then import in another folder, moves a cluster cleanly; import --write-config in an empty folder writes what the cluster is", async () => {
  await withSimHost({ config: testConfig() }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    h.clearCalls();
    const rm = await h.ok(["state", "rm", "firestream-local"]);
    assertMatch(rm.stdout, "Cluster firestream-local is no longer managed from here");
    assertEquals(h.mutatingCalls(), [], "the cluster is not touched");
    assertEquals((await h.state()).clusters["firestream-local"], undefined);
    assertEquals(
      existsSync(`${h.home}/.local/state/firestream/clusters/firestream-local.json`),
      false,
    );

    const b = `${h.root}/moved`;
    Deno.mkdirSync(b);
    const imp = await expectCode(
      h.run(["import", "cluster", "firestream-local", "--write-config"], { cwd: b }),
      0,
    );
    assertEquals(imp.stderr.includes("built-in defaults"), false, imp.stderr);
    assertMatch(toml(b), 'name = "moved"');
    assertEquals(toml(b).includes("[cluster]\n"), false);
    await converged(h, b);
    // a second --write-config on the imported cluster writes it again
    Deno.removeSync(`${b}/firestream.toml`);
    await expectCode(
      h.run(["import", "cluster", "firestream-local", "--write-config"], { cwd: b }),
      0,
    );
    await converged(h, b);
    // the first folder no longer manages it, and is told where it is
    const plan = await h.ok(["plan"], 1);
    assertMatch(plan.stderr, `k3d cluster firestream-local is managed from ${b}\n`);
    await expectCode(h.run(["cluster", "delete", "--yes"], { cwd: b }), 0);
    assertEquals(h.world().clusters["firestream-local"], undefined);

    // a cluster made by hand publishes no 80/443: the written table does not claim them
    await h.tool("k3d", ["cluster", "create", "plain"]);
    const c = `${h.root}/plain`;
    Deno.mkdirSync(c);
    await expectCode(h.run(["import", "cluster", "plain", "--write-config"], { cwd: c }), 0);
    assertEquals(/http_port|https_port/.test(toml(c)), false, toml(c));
    // what the table asks beyond the cluster as it is (the ingress names) is one apply away
    await expectCode(h.run(["apply", "--yes"], { cwd: c }), 0);
    await converged(h, c);
  });
});
