/** Commands that talk to a cluster first make sure it exists and runs, and say so in one line. */
import { FirestreamError } from "../errors.ts";
import { findCluster } from "../tools/k3d.ts";

/** Throws a one-line error when k3d has no such cluster or none of its servers runs. */
export async function requireRunning(name: string): Promise<void> {
  const live = await findCluster(name);
  if (!live) {
    throw new FirestreamError(
      `cluster ${name} does not exist; create it with \`firestream cluster create\``,
    );
  }
  const servers = live.nodes.filter((n) => n.role === "server");
  if (!servers.some((n) => n.State?.Running)) {
    throw new FirestreamError(
      `cluster ${name} is stopped; start it with \`firestream cluster start ${name}\``,
    );
  }
}
