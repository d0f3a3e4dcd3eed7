import assert from "node:assert/strict";
import { toolCommand } from "./launch.ts";

Deno.test("`drive selftest` drives its mock and passes with exact counts", async () => {
  const { cmd, args } = toolCommand("drive", "harness/main.ts", [
    ...["selftest", "--count", "3000", "--concurrency", "16"],
  ]);
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /requests {3}3000 in /);
  assert.match(text, /ok {9}3000 \(2xx 3000, 3xx 0\)/);
  assert.match(text, /^selftest passed$/m);
});

Deno.test("`drive` refuses a non-loopback target without --allow-remote", async () => {
  const { cmd, args } = toolCommand("drive", "harness/main.ts", [
    ...["--host", "10.1.2.3", "--port", "80", "--count", "1"],
  ]);
  const out = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 2);
  assert.match(new TextDecoder().decode(out.stderr), /refusing to load 10\.1\.2\.3/);
});
