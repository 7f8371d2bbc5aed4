import { assertEquals } from "../../test/assert.ts";
import { logRecord, logsArgs } from "./logs.ts";

const t = { namespace: "default", pod: "web-1", container: "web" };

Deno.test("logs: a line kubectl --timestamps prints splits into the kubelet's stamp and the line as it was", () => {
  // the kubelet's stamp: fixed-width RFC 3339 with nanoseconds, then one space
  // (kubernetes pkg/kubelet/kuberuntime/logs/logs.go, timeFormatOut)
  assertEquals(logRecord(t, "2024-08-30T06:00:00.120000000Z GET /  200", true), {
    ...t,
    timestamp: "2024-08-30T06:00:00.120000000Z",
    message: "GET /  200",
  });
  assertEquals(logRecord(t, "2024-08-30T06:00:00.000000000Z ", true).message, "");
  // not asked for: a line that starts with a date is the line
  assertEquals(logRecord(t, "2024-08-30T06:00:00Z started", false), {
    ...t,
    message: "2024-08-30T06:00:00Z started",
  });
});

Deno.test("logs: each stream names its pod and container, so kubectl picks no default and says nothing on stderr", () => {
  assertEquals(logsArgs(t, { namespace: "default", timestamps: true, tail: 5 }), [
    "-n",
    "default",
    "logs",
    "web-1",
    "-c",
    "web",
    "--tail=5",
    "--timestamps",
  ]);
});
