import { assertEquals } from "../../test/assert.ts";
import {
  agentContainer,
  agentIndex,
  agentNodeName,
  clusterNetwork,
  clusterOfContext,
  clusterOfNetwork,
  k3dConfigPath,
  kubeconfigContext,
  loadBalancerContainer,
  registryContainer,
  registryName,
  serverContainer,
} from "./k3d_names.ts";

Deno.test("k3d names: what k3d calls a cluster's network, containers and context", () => {
  assertEquals(clusterNetwork("dev"), "k3d-dev");
  assertEquals(kubeconfigContext("dev"), "k3d-dev");
  assertEquals(serverContainer("dev"), "k3d-dev-server-0");
  assertEquals(serverContainer("dev", 2), "k3d-dev-server-2");
  assertEquals(loadBalancerContainer("dev"), "k3d-dev-serverlb");
  assertEquals(agentNodeName("dev", 3), "dev-agent-3");
  assertEquals(agentContainer(agentNodeName("dev", 3)), "k3d-dev-agent-3-0");
  assertEquals(k3dConfigPath("/s", "dev"), "/s/k3d/dev.yaml");
});

Deno.test("k3d names: read back, with k3d's doubled prefix kept", () => {
  assertEquals(clusterOfNetwork("k3d-dev"), "dev");
  assertEquals(clusterOfNetwork("bridge"), undefined);
  assertEquals(clusterOfContext("k3d-k3d-x"), "k3d-x");
  assertEquals(clusterOfContext("kind-x"), undefined);
  assertEquals(registryName(registryContainer("k3d-reg")), "k3d-reg");
  assertEquals(
    ["k3d-dev-agent-1-0", "k3d-dev-agent-0", "x"].map(agentIndex),
    [1, 0, Number.MAX_SAFE_INTEGER],
  );
});
