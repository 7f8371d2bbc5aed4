/** End-to-end: `cluster trust` into the system store and the browsers' NSS databases (real certutil), and out again. */
import { assertEquals, assertMatch, assertOk } from "../assert.ts";
import { findProgram, requireReal, run } from "../real/require.ts";
import { testConfig, withSimHost } from "../sim/harness.ts";

const certutil = findProgram("certutil");
const hasCertutil = requireReal(
  "certutil (NSS tools)",
  Boolean(certutil),
  "install libnss3-tools (Debian/Ubuntu) or nss-tools (Fedora)",
);

Deno.test({
  name:
    "trust: Chrome's and Firefox's NSS databases get the CA with certutil, --uninstall removes it, --dry-run prints every command",
  ignore: !hasCertutil,
}, async () => {
  const config = testConfig().replace(
    "[cluster.k3d.tls]\nenabled = false",
    "[cluster.k3d.tls]\nenabled = true",
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const chrome = `${h.home}/.pki/nssdb`;
    const firefox = `${h.home}/.mozilla/firefox/abcd1234.default-release`;
    for (const dir of [chrome, firefox]) {
      Deno.mkdirSync(dir, { recursive: true });
      const made = await run(certutil!, ["-N", "-d", `sql:${dir}`, "--empty-password"]);
      assertEquals(made.code, 0, made.stderr);
    }
    const ca = `${h.home}/certs/firestream-ca.crt`;
    const listed = async (dir: string) =>
      (await run(certutil!, ["-L", "-d", `sql:${dir}`])).stdout.includes("firestream local CA");

    const dry = await h.ok(["cluster", "trust", "--dry-run"]);
    for (const dir of [chrome, firefox]) {
      assertMatch(
        dry.stderr,
        `$ certutil -A -d sql:${dir} -t C,, -n 'firestream local CA' -i ${ca}\n`,
      );
    }
    assertMatch(dry.stdout, "dry run: nothing was changed");
    assertEquals(await listed(chrome), false, "a dry run changes nothing");

    // the NSS part only: the system store of the machine running the tests is left alone
    const r = await h.ok(["cluster", "trust", "--store", "nss"]);
    assertMatch(r.stdout, "The firestream CA is trusted now in 2 browser NSS database(s).");
    assertOk(await listed(chrome));
    assertOk(await listed(firefox));
    const again = await h.ok(["cluster", "trust", "--store", "nss"]);
    assertEquals(again.code, 0, "trusting twice is fine");

    const un = await h.ok(["cluster", "trust", "--uninstall", "--store", "nss"]);
    assertMatch(un.stdout, "Removed the firestream CA from 2 browser NSS database(s).");
    assertEquals(await listed(chrome), false);
    assertEquals(await listed(firefox), false);
    const twice = await h.ok(["cluster", "trust", "--uninstall", "--store", "nss"]);
    assertEquals(twice.code, 0, "removing what is gone is done");
  });
});

Deno.test("trust: on each distribution's layout (a fake root) the CA goes into its anchor directory and its command runs; the output names the store", async () => {
  const config = testConfig().replace(
    "[cluster.k3d.tls]\nenabled = false",
    "[cluster.k3d.tls]\nenabled = true",
  );
  await withSimHost({ config }, async (h) => {
    await h.ok(["cluster", "create", "--yes"]);
    const ca = Deno.readTextFileSync(`${h.home}/certs/firestream-ca.crt`);
    // stand-ins for the stores' commands: each writes its argv to a log
    const bin = `${h.root}/trust-bin`;
    const log = `${h.root}/trust.log`;
    Deno.mkdirSync(bin);
    for (const tool of ["update-ca-trust", "update-ca-certificates", "trust"]) {
      Deno.writeTextFileSync(
        `${bin}/${tool}`,
        `#!/bin/sh\n{ printf '%s' "${tool}"; for a; do printf ' %s' "$a"; done; echo; } >> "${log}"\n`,
      );
      Deno.chmodSync(`${bin}/${tool}`, 0o755);
    }
    const layouts = [
      ["Fedora/RHEL", "/etc/pki/ca-trust/source/anchors", ".pem", "update-ca-trust extract"],
      ["Debian/Ubuntu", "/usr/local/share/ca-certificates", ".crt", "update-ca-certificates"],
      ["Arch", "/etc/ca-certificates/trust-source/anchors", ".crt", "trust extract-compat"],
      ["openSUSE", "/usr/share/pki/trust/anchors", ".pem", "update-ca-certificates"],
    ];
    for (const [distribution, anchors, extension, command] of layouts) {
      const root = `${h.root}/fake-${extension.slice(1)}-${anchors.replaceAll("/", "_")}`;
      Deno.mkdirSync(`${root}${anchors}`, { recursive: true });
      // every distribution also has the commands of the others: the directory decides
      const env = { FIRESTREAM_TRUST_ROOT: root, PATH: `${bin}:${h.env.PATH}` };
      Deno.writeTextFileSync(log, "");
      const r = await h.run(["cluster", "trust", "--store", "system"], { env });
      assertEquals(r.code, 0, r.stderr);
      const file = `${root}${anchors}/firestream-local-ca${extension}`;
      assertEquals(Deno.readTextFileSync(file), ca, `${distribution}: the CA is in ${anchors}`);
      assertEquals(Deno.readTextFileSync(log), `${command}\n`, `${distribution} runs ${command}`);
      assertMatch(r.stdout, `the ${distribution} trust store (${file}, \`${command}\`)`);
      const json = await h.run(["cluster", "trust", "--store", "system", "--json"], { env });
      assertEquals(JSON.parse(json.stdout).system_store.distribution, distribution);

      Deno.writeTextFileSync(log, "");
      const un = await h.run(["cluster", "trust", "--uninstall", "--store", "system"], { env });
      assertEquals(un.code, 0, un.stderr);
      assertEquals([...Deno.readDirSync(`${root}${anchors}`)], [], "removed");
      assertEquals(
        Deno.readTextFileSync(log),
        `${command}\n`,
        "the store is rebuilt after removal",
      );
    }
    const bare = `${h.root}/bare`;
    Deno.mkdirSync(bare);
    const none = await h.run(["cluster", "trust", "--store", "system"], {
      env: { FIRESTREAM_TRUST_ROOT: bare },
    });
    assertEquals(none.code, 1);
    assertMatch(none.stderr, "no known trust store here");
  });
});
