import { assertEquals, assertMatch } from "../../test/assert.ts";
import {
  NSS_NICKNAME,
  nssCommands,
  nssDatabases,
  SYSTEM_STORES,
  systemStore,
  trustCommands,
} from "./trust.ts";

Deno.test("NSS databases are found where Chrome and Firefox keep them, sql: or dbm: by their files", () => {
  const home = Deno.makeTempDirSync();
  try {
    const make = (dir: string, file: string) => {
      Deno.mkdirSync(`${home}/${dir}`, { recursive: true });
      Deno.writeTextFileSync(`${home}/${dir}/${file}`, "");
    };
    make(".pki/nssdb", "cert9.db");
    make(".mozilla/firefox/a1.default-release", "cert9.db");
    make(".mozilla/firefox/b2.old", "cert8.db");
    Deno.mkdirSync(`${home}/.mozilla/firefox/c3.empty`);
    assertEquals(nssDatabases(home), [
      `sql:${home}/.mozilla/firefox/a1.default-release`,
      `dbm:${home}/.mozilla/firefox/b2.old`,
      `sql:${home}/.pki/nssdb`,
    ]);
    assertEquals(nssDatabases(`${home}/nobody`), []);
    assertEquals(nssCommands("/ca.crt", [`sql:${home}/.pki/nssdb`], false), [[
      "certutil",
      "-A",
      "-d",
      `sql:${home}/.pki/nssdb`,
      "-t",
      "C,,",
      "-n",
      NSS_NICKNAME,
      "-i",
      "/ca.crt",
    ]]);
    assertEquals(nssCommands("/ca.crt", ["sql:/x"], true), [[
      "certutil",
      "-D",
      "-d",
      "sql:/x",
      "-n",
      NSS_NICKNAME,
    ]]);
  } finally {
    Deno.removeSync(home, { recursive: true });
  }
});

Deno.test("the system store is chosen as mkcert does, by which anchor directory exists under the root", () => {
  const root = Deno.makeTempDirSync();
  try {
    const ca = "/certs/ca.crt";
    const cases: [string, string, string[]][] = [
      [
        "/usr/share/pki/trust/anchors",
        "/usr/share/pki/trust/anchors/firestream-local-ca.pem",
        ["update-ca-certificates"],
      ],
      [
        "/etc/ca-certificates/trust-source/anchors",
        "/etc/ca-certificates/trust-source/anchors/firestream-local-ca.crt",
        ["trust", "extract-compat"],
      ],
      [
        "/usr/local/share/ca-certificates",
        "/usr/local/share/ca-certificates/firestream-local-ca.crt",
        ["update-ca-certificates"],
      ],
      [
        "/etc/pki/ca-trust/source/anchors",
        "/etc/pki/ca-trust/source/anchors/firestream-local-ca.pem",
        ["update-ca-trust", "extract"],
      ],
    ];
    let refused = "";
    try {
      trustCommands(ca, false, root);
    } catch (err) {
      refused = (err as Error).message;
    }
    assertMatch(refused, "no known trust store here");
    // each directory added wins over those before it in this list: mkcert's order is the reverse
    for (const [dir, file, command] of cases) {
      Deno.mkdirSync(`${root}${dir}`, { recursive: true });
      const t = trustCommands(ca, false, root);
      assertEquals(t.store?.anchors, dir);
      assertEquals(t.commands, [["install", "-m", "0644", ca, `${root}${file}`], command]);
      assertEquals(trustCommands(ca, true, root).commands, [
        ["rm", "-f", `${root}${file}`],
        command,
      ]);
      assertEquals(systemStore(root), SYSTEM_STORES.find((s) => s.anchors === dir));
    }
    // a file where a directory should be is no store
    const other = Deno.makeTempDirSync();
    Deno.mkdirSync(`${other}/usr/local/share`, { recursive: true });
    Deno.writeTextFileSync(`${other}/usr/local/share/ca-certificates`, "");
    assertEquals(systemStore(other), undefined);
    Deno.removeSync(other, { recursive: true });
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("NSS: the system database /etc/pki/nssdb under the root counts too", () => {
  const root = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(`${root}/etc/pki/nssdb`, { recursive: true });
    Deno.writeTextFileSync(`${root}/etc/pki/nssdb/cert9.db`, "");
    assertEquals(nssDatabases(`${root}/home`, root), [`sql:${root}/etc/pki/nssdb`]);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
