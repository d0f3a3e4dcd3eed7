/**
 * The Dockerfile and deploy/k8s, checked statically (no Docker engine or cluster here): they
 * parse, agree with each other and with the server's defaults.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { parseConfig } from "../../src/config/load.ts";
import { ROOT } from "../../harness/launch.ts";
import { siphonCommand } from "../../harness/launch.ts";

// deno-lint-ignore no-explicit-any
type Doc = any;

/** The manifests by kind; ConfigMaps also by `ConfigMap/<name>`. */
function manifests(): Map<string, Doc> {
  const byKind = new Map<string, Doc>();
  const dir = join(ROOT, "deploy", "k8s");
  for (const e of Deno.readDirSync(dir)) {
    if (!e.name.endsWith(".yaml")) continue;
    for (const doc of parseAllDocuments(Deno.readTextFileSync(join(dir, e.name)))) {
      assert.equal(doc.errors.length, 0, `${e.name}: ${doc.errors.join("; ")}`);
      const value = doc.toJS();
      byKind.set(
        value.kind === "ConfigMap" ? `ConfigMap/${value.metadata.name}` : value.kind,
        value,
      );
    }
  }
  return byKind;
}

Deno.test("k8s manifests reference each other consistently", () => {
  const m = manifests();
  for (
    const kind of [
      "ConfigMap/siphon-config",
      "ConfigMap/siphon-edge",
      "Deployment",
      "Service",
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
    ]
  ) {
    assert.ok(m.has(kind), `missing ${kind}`);
  }
  const deploy = m.get("Deployment");
  const labels = deploy.spec.template.metadata.labels;
  assert.deepEqual(deploy.spec.selector.matchLabels, labels);
  assert.deepEqual(m.get("Service").spec.selector, labels);
  assert.deepEqual(m.get("PodDisruptionBudget").spec.selector.matchLabels, labels);
  const hpa = m.get("HorizontalPodAutoscaler").spec.scaleTargetRef;
  assert.deepEqual([hpa.kind, hpa.name], ["Deployment", deploy.metadata.name]);
  const [container, edge] = deploy.spec.template.spec.containers;
  const portsOf = (c: Doc) =>
    Object.fromEntries(c.ports.map((p: Doc) => [p.name, p.containerPort]));
  assert.deepEqual(portsOf(container), { admin: 9091 });
  assert.deepEqual(portsOf(edge), { http: 8080 }, "clients reach the app through the edge proxy");
  assert.equal(m.get("Service").spec.ports[0].targetPort, "http");
  assert.deepEqual(container.readinessProbe.httpGet, { path: "/readyz", port: "admin" });
  assert.deepEqual(container.livenessProbe.httpGet, { path: "/healthz", port: "admin" });
  // /healthz answers before the workers boot, so the startup probe gates liveness from the
  // start; no fixed initial delay.
  assert.deepEqual(container.startupProbe.httpGet, { path: "/healthz", port: "admin" });
  assert.equal(container.livenessProbe.initialDelaySeconds, undefined);
  const volume = deploy.spec.template.spec.volumes.find((v: Doc) => v.name === "config");
  assert.equal(volume.configMap.name, m.get("ConfigMap/siphon-config").metadata.name);
  const mount = container.volumeMounts.find((v: Doc) => v.name === volume.name);
  assert.equal(mount.mountPath, "/etc/siphon");
  assert.ok(container.args.includes("/etc/siphon/http.yaml"));
  assert.equal(deploy.spec.template.spec.securityContext.runAsNonRoot, true);
});

Deno.test("the ConfigMap's http.yaml is valid and matches the Deployment", () => {
  const m = manifests();
  const data = m.get("ConfigMap/siphon-config").data;
  const dir = Deno.makeTempDirSync({ prefix: "siphon-k8s-" });
  Deno.writeTextFileSync(join(dir, "app.py"), data["app.py"]);
  const config = parseConfig(data["http.yaml"], { file: "http.yaml", dir, env: { WORKERS: "2" } });
  assert.deepEqual(config.admin?.listen, { text: "0.0.0.0:9091", hostname: "0.0.0.0", port: 9091 });
  assert.equal(config.servers[0].listen.text, "127.0.0.1:8081", "only the edge proxy reaches it");
  assert.deepEqual(config.servers[0].trusted_proxies, ["127.0.0.1"], "req.client: the real client");
  const grace = m.get("Deployment").spec.template.spec.terminationGracePeriodSeconds;
  assert.ok(grace * 1000 > config.shutdown_grace_ms, "the kubelet must wait out the drain");
  const env = m.get("Deployment").spec.template.spec.containers[0].env;
  assert.ok(env.some((e: Doc) => e.name === "GLIBC_TUNABLES"));
});

Deno.test("the Dockerfile builds in one stage and runs non-root in another", () => {
  const text = Deno.readTextFileSync(join(ROOT, "Dockerfile"));
  const froms = [...text.matchAll(/^FROM (\S+) AS (\S+)$/gm)].map((m) => m[2]);
  assert.deepEqual(froms, ["build", "runtime"]);
  assert.match(text, /npx -y deno@2\.9\.6 task compile/);
  assert.match(text, /^COPY --from=build \/src\/dist\/siphon-deno /m);
  const user = /^USER (\S+)$/m.exec(text)?.[1];
  assert.ok(user && user !== "root" && user !== "0", `runs as ${user}`);
  assert.match(text, /^EXPOSE 8080 9091$/m);
  assert.match(
    text,
    /^HEALTHCHECK .*\n\s+CMD \["\/usr\/local\/bin\/siphon-deno", "health", "--url", "http:\/\/127\.0\.0\.1:9091\/healthz"\]/m,
  );
  assert.match(text, /GLIBC_TUNABLES=glibc\.malloc\.mmap_threshold=131072/);
  assert.match(text, /^CMD \["serve", "--config", "\/etc\/siphon\/http\.yaml"\]$/m);
  // A wheelhouse for python.packages is copied in; the default folder exists in the repository.
  const wheelhouse = /^ARG WHEELHOUSE=(\S+)$/m.exec(text)?.[1];
  assert.ok(wheelhouse && Deno.statSync(join(ROOT, wheelhouse)).isDirectory, `${wheelhouse}`);
  assert.match(text, /^COPY \$\{WHEELHOUSE\} \/opt\/siphon\/wheels$/m);
});

Deno.test("`siphon-deno health` exits 0 only when the URL answers 200", async () => {
  const ok = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("ok"),
  );
  const port = (ok.addr as Deno.NetAddr).port;
  const launch = siphonCommand(["health", "--url"]);
  const run = (url: string) =>
    new Deno.Command(launch.cmd, {
      args: [...launch.args, url],
      cwd: ROOT,
      stdout: "null",
      stderr: "null",
    }).output();
  assert.equal((await run(`http://127.0.0.1:${port}/healthz`)).code, 0);
  await ok.shutdown();
  assert.equal((await run(`http://127.0.0.1:${port}/healthz`)).code, 1);
});

Deno.test("the edge proxy bounds slow clients and forwards to the app's listener", () => {
  const m = manifests();
  const conf: string = m.get("ConfigMap/siphon-edge").data["nginx.conf"];
  const setting = (name: string) => new RegExp(`^\\s*${name} (\\S+);$`, "m").exec(conf)?.[1];
  // Deno.serve has no header read timeout; the proxy's is what bounds a slowloris.
  assert.equal(setting("client_header_timeout"), "10s");
  assert.equal(setting("client_body_timeout"), "30s");
  const app = m.get("ConfigMap/siphon-config").data["http.yaml"];
  const listen = /listen: "([\d.]+:\d+)"/.exec(app.slice(app.indexOf("servers:")))?.[1];
  assert.equal(setting("server"), listen, "the upstream is siphon-deno's listener");
  assert.equal(setting("client_max_body_size"), "1m", "413 at the same size as max_body_bytes");
  assert.match(app, /max_body_bytes: 1048576/);
  assert.equal(setting("proxy_buffering"), "off", "streamed responses pass through");
  assert.equal(setting("proxy_request_buffering"), "off", "streamed uploads pass through");
  // WebSocket upgrades pass through; other requests keep the pooled keep-alive connection
  assert.match(conf, /proxy_set_header Upgrade \$http_upgrade;/);
  assert.match(conf, /proxy_set_header Connection \$connection_upgrade;/);
  assert.match(conf, /map \$http_upgrade \$connection_upgrade \{\s*default upgrade;\s*"" "";/);
  const edge = m.get("Deployment").spec.template.spec.containers[1];
  const mount = edge.volumeMounts[0];
  assert.ok(edge.args.includes(`${mount.mountPath}/nginx.conf`));
  const volume = m.get("Deployment").spec.template.spec.volumes.find((v: Doc) =>
    v.name === mount.name
  );
  assert.equal(volume.configMap.name, "siphon-edge");
});
