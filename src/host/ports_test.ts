import { assertEquals, assertMatch } from "../../test/assert.ts";
import { findProgram, requireReal } from "../../test/real/require.ts";
import { listeningProcess, parseLsof } from "./ports.ts";

Deno.test("lsof's field output names the command and pid", () => {
  assertEquals(parseLsof("p4242\ncnginx\nf6\n"), "nginx (pid 4242)");
  assertEquals(parseLsof(""), undefined);
});

const hasLsof = requireReal("lsof", Boolean(findProgram("lsof")), "install lsof");
const hasSs = requireReal("ss", Boolean(findProgram("ss")), "install iproute2");

Deno.test({
  name: "the port holder is named on macOS (lsof) and on Linux (ss), by a real listener",
  ignore: !hasLsof || !hasSs,
}, async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  try {
    const mac = await listeningProcess(port, "darwin");
    const linux = await listeningProcess(port, "linux");
    assertMatch(mac ?? "", `(pid ${Deno.pid})`);
    assertMatch(linux ?? "", `(pid ${Deno.pid})`);
  } finally {
    listener.close();
  }
  assertEquals(await listeningProcess(port, "darwin"), undefined);
});
