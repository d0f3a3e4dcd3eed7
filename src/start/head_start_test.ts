import assert from "node:assert/strict";
import { resolve } from "node:path";
import { userFolder } from "../cli_args.ts";
import { serveConfig } from "./head_start.ts";

Deno.test("serveConfig(): the config of a serve command line, read as the CLI reads it", () => {
  const here = (p: string) => resolve(userFolder(), p);
  assert.equal(serveConfig(["serve"]), here("http.yaml"));
  assert.equal(serveConfig(["serve", "--config", "a/b.yaml", "--no-watch"]), here("a/b.yaml"));
  assert.equal(serveConfig(["serve", "-c", "/etc/siphon/http.yaml"]), "/etc/siphon/http.yaml");
  assert.equal(serveConfig(["serve", "--config=c.yaml"]), here("c.yaml"));
  for (const no of [["check"], ["serve", "--help"], ["serve", "-V"], ["serve", "--bogus"], []]) {
    assert.equal(serveConfig(no), null, no.join(" "));
  }
});
