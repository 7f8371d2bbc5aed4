/** Firestream: state-managed local Kubernetes clusters on k3d. */
import { main } from "./src/cli/main.ts";

if (import.meta.main) Deno.exit(await main(Deno.args));
