import { assertEquals } from "../../test/assert.ts";
import { NSS_NICKNAME, nssCommands, nssDatabases } from "./trust.ts";

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
