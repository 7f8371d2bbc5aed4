/** A loopback stand-in for a registry container when no Docker engine is used: answers the v2 API root and catalog. */
const [hostname, port] = Deno.args;
const repositories: string[] = [];
Deno.serve({ hostname, port: Number(port), onListen: () => console.log("listening") }, (req) => {
  const url = new URL(req.url);
  const headers = {
    "content-type": "application/json",
    "docker-distribution-api-version": "registry/2.0",
  };
  if (url.pathname === "/v2/" || url.pathname === "/v2") return new Response("{}", { headers });
  if (url.pathname === "/v2/_catalog") {
    return new Response(JSON.stringify({ repositories }), { headers });
  }
  return new Response('{"errors":[{"code":"NOT_FOUND"}]}', { status: 404, headers });
});
