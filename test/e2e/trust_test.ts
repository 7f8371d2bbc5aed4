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
