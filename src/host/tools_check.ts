/** The external programs Firestream needs, and whether they are new enough. */
import { FirestreamError } from "../errors.ts";
import { dockerServerVersion } from "../tools/docker.ts";
import { atLeast, k3dVersion, MIN_K3D } from "../tools/k3d.ts";
import { kubectlVersion } from "../tools/kubectl.ts";

/** Fails unless Docker answers, k3d is 5.5+ and kubectl is present. */
export async function checkTools(): Promise<{ docker: string; k3d: string; kubectl: string }> {
  const [docker, k3d, kubectl] = await Promise.all([
    dockerServerVersion(),
    k3dVersion(),
    kubectlVersion(),
  ]);
  requireK3d(k3d);
  return { docker, k3d, kubectl };
}

/** Fails when k3d cannot read `k3d.io/v1alpha5` configs. */
export function requireK3d(version: string): void {
  if (!atLeast(version, MIN_K3D)) {
    throw new FirestreamError(
      `k3d ${version} is too old: config k3d.io/v1alpha5 needs k3d v${MIN_K3D.join(".")} or newer`,
      {
        hint:
          "upgrade k3d: curl -s https://raw.githubusercontent.com/k3d-io/k3d/main/install.sh | bash",
      },
    );
  }
}
