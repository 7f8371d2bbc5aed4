/**
 * A loopback stand-in for a registry container when no Docker engine is used: answers the v2 API
 * root, the catalog and each repository's tag list. What was pushed is the file
 * `$FIRESTREAM_SIM_DIR/registry-<port>.json` (`{"repo": ["tag", …]}`), read at each request.
 * Shapes from distribution's API spec (docs/spec/api.md: "Listing Repositories" `{"repositories":
 * […]}`, "Listing Image Tags" `{"name": …, "tags": […]}`, NAME_UNKNOWN for a repository it lacks).
 */
const [hostname, port] = Deno.args;
const pushed = `${Deno.env.get("FIRESTREAM_SIM_DIR") ?? "."}/registry-${port}.json`;

function repositories(): Record<string, string[]> {
  try {
    return JSON.parse(Deno.readTextFileSync(pushed));
  } catch {
    return {};
  }
}

Deno.serve({ hostname, port: Number(port), onListen: () => console.log("listening") }, (req) => {
  const url = new URL(req.url);
  const headers = {
    "content-type": "application/json",
    "docker-distribution-api-version": "registry/2.0",
  };
  if (url.pathname === "/v2/" || url.pathname === "/v2") return new Response("{}", { headers });
  if (url.pathname === "/v2/_catalog") {
    return new Response(JSON.stringify({ repositories: Object.keys(repositories()).sort() }), {
      headers,
    });
  }
  const tags = /^\/v2\/(.+)\/tags\/list$/.exec(url.pathname);
  if (tags) {
    const list = repositories()[tags[1]];
    if (list) return new Response(JSON.stringify({ name: tags[1], tags: list }), { headers });
    return new Response(
      JSON.stringify({
        errors: [{
          code: "NAME_UNKNOWN",
          message: "repository name not known to registry",
          detail: { name: tags[1] },
        }],
      }),
      { status: 404, headers },
    );
  }
  return new Response('{"errors":[{"code":"NOT_FOUND"}]}', { status: 404, headers });
});
