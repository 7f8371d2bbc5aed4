import { assertEquals } from "../../test/assert.ts";
import { plainDnsError } from "./dns.ts";

Deno.test("DNS failures read as words, never as the resolver library's debug text", () => {
  assertEquals(
    plainDnsError(
      'proto error: no records found for Query { name: Name("kubernetes.default.svc.cluster.local."), query_type: A, query_class: IN }',
    ),
    "no records found",
  );
  assertEquals(plainDnsError("request timed out"), "no answer in time");
  assertEquals(plainDnsError("Connection refused (os error 111)"), "connection refused");
  assertEquals(
    plainDnsError("proto error: io error: Network unreachable (os error 101) Some { x: 1 }"),
    "io error: Network unreachable",
  );
  assertEquals(plainDnsError("proto error: Query { }"), "the lookup failed");
});
