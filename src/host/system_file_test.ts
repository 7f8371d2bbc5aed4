import { assertEquals } from "../../test/assert.ts";
import { linkTarget, systemFileLink, writeSystemFile } from "./system_file.ts";

Deno.test("system files: a chain of links stays as it is; the file at its end is replaced in its own directory", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/etc`);
    await Deno.mkdir(`${dir}/run/resolve`, { recursive: true });
    await Deno.writeTextFile(`${dir}/run/resolve/stub.conf`, "nameserver 127.0.0.53\n");
    await Deno.chmod(`${dir}/run/resolve/stub.conf`, 0o640);
    // etc/resolv.conf -> ../run/resolv.conf (relative) -> <dir>/run/resolve/stub.conf (absolute)
    await Deno.symlink(`${dir}/run/resolve/stub.conf`, `${dir}/run/resolv.conf`);
    await Deno.symlink("../run/resolv.conf", `${dir}/etc/resolv.conf`);
    const path = `${dir}/etc/resolv.conf`;
    assertEquals(await systemFileLink(path), "../run/resolv.conf");
    assertEquals(await linkTarget(path), `${dir}/run/resolve/stub.conf`);
    await writeSystemFile(path, "nameserver 10.43.0.10\n", { backup: `${dir}/state/b.bak` });
    assertEquals(await Deno.readLink(path), "../run/resolv.conf");
    assertEquals(await Deno.readLink(`${dir}/run/resolv.conf`), `${dir}/run/resolve/stub.conf`);
    assertEquals(
      await Deno.readTextFile(`${dir}/run/resolve/stub.conf`),
      "nameserver 10.43.0.10\n",
    );
    assertEquals((await Deno.stat(`${dir}/run/resolve/stub.conf`)).mode! & 0o777, 0o640);
    assertEquals(await Deno.readTextFile(`${dir}/state/b.bak`), "nameserver 127.0.0.53\n");
    assertEquals([...Deno.readDirSync(`${dir}/run/resolve`)].map((e) => e.name), ["stub.conf"]);
    assertEquals(await systemFileLink(`${dir}/run/resolve/stub.conf`), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("system files: a recorded link replaced by a plain copy comes back once the copy matches its target", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/hosts.real`, "127.0.0.1 localhost\n");
    await Deno.writeTextFile(`${dir}/hosts`, "127.0.0.1 localhost\n# block\n");
    const backup = `${dir}/b.bak`;
    // the copy still differs from the target: it stays a file
    await writeSystemFile(`${dir}/hosts`, "127.0.0.1 localhost\n# other\n", {
      backup,
      link: "hosts.real",
    });
    assertEquals(await systemFileLink(`${dir}/hosts`), undefined);
    await writeSystemFile(`${dir}/hosts`, "127.0.0.1 localhost\n", { backup, link: "hosts.real" });
    assertEquals(await systemFileLink(`${dir}/hosts`), "hosts.real");
    assertEquals(await Deno.readTextFile(`${dir}/hosts`), "127.0.0.1 localhost\n");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
