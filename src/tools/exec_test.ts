import { assertEquals } from "../../test/assert.ts";
import { DOCKER_UNREACHABLE, dockerUnreachable } from "./exec.ts";

Deno.test("dockerUnreachable: the words of docker ≤ 28, 29 and k3d, each with a source", () => {
  const cases: [string, "down" | "denied"][] = [
    [
      "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      "down",
    ],
    [
      "failed to connect to the docker API at unix:///var/run/docker.sock; check if the path is correct and if the daemon is running: dial unix /var/run/docker.sock: connect: no such file or directory",
      "down",
    ],
    [
      'permission denied while trying to connect to the Docker daemon socket at unix:///var/run/docker.sock: Get "http://%2Fvar%2Frun%2Fdocker.sock/v1.50/version": dial unix /var/run/docker.sock: connect: permission denied',
      "denied",
    ],
    [
      "permission denied while trying to connect to the docker API at unix:///var/run/docker.sock",
      "denied",
    ],
    [
      "Cannot connect to the Docker daemon. Is the docker daemon running on this host?",
      "down",
    ],
    [
      "failed to connect to the docker API at tcp://no-such-host:2375: lookup no-such-host on 127.0.0.53:53: no such host",
      "down",
    ],
    [
      "\x1b[31mFATA\x1b[0m[0000] runtime docker failed: Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
      "down",
    ],
  ];
  for (const [text, kind] of cases) assertEquals(dockerUnreachable(text)?.kind, kind, text);
  assertEquals(dockerUnreachable("Error response from daemon: No such container: x"), undefined);
  for (const d of DOCKER_UNREACHABLE) {
    assertEquals(/^docker\/cli v\d+\.\d+\.\d+ /.test(d.source), true);
  }
});
