/** Firestream: state-managed local Kubernetes clusters on k3d. */
import { versionLine } from "./src/version.ts";

if (import.meta.main) {
  const args = Deno.args;
  // answered before anything else loads: start-up time is a feature
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
    console.log(versionLine());
    Deno.exit(0);
  }
  if (args[0] === "__supervise" && args.length === 2) {
    // the detached port-forward supervisor: nothing of the CLI in its memory
    const { supervise } = await import("./src/portforward/control.ts");
    try {
      await supervise(args[1]);
    } catch (err) {
      console.error(`error: ${err instanceof Error ? err.message : err}`);
      Deno.exit(1);
    }
    Deno.exit(0);
  }
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(args));
}
