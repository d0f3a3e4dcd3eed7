/**
 * A 10 KiB static file: siphon-deno's `static:` folder (one worker) against plain Deno.serve
 * answering the same bytes from memory (the floor: what Deno costs with no file at all) and
 * nginx serving the same folder (one worker process), in one run: `deno task bench:static`.
 * wrk -t1 -c64, rounds alternating between the servers, medians of req/s and CPU per request
 * (each server's user+sys from /proc, nginx's worker included).
 *
 * Needs Debian's wrk and nginx (`apt-get install wrk nginx-light`; nginx runs as this user, in
 * a temporary prefix, never as a system service). Env: BENCH_ROUNDS (5), BENCH_DURATION (4s),
 * BENCH_CONNECTIONS (64).
 */
import { join } from "node:path";
import {
  type CpuServer,
  med,
  RUN,
  runRounds,
  startCpuServer,
  writeSamples,
} from "./_cpu_rounds.ts";
import { siphonCommand, toolArgs } from "./_proc.ts";

const dir = Deno.makeTempDirSync({ prefix: "siphon-bench-static-" });
Deno.mkdirSync(join(dir, "public"));
const file = join(dir, "public", "f10k.bin");
Deno.writeFileSync(file, crypto.getRandomValues(new Uint8Array(10240)));
Deno.writeTextFileSync(join(dir, "app.py"), "from siphon import http\n");
Deno.writeTextFileSync(
  join(dir, "http.yaml"),
  "script: app.py\nworkers: 1\nallow_no_routes: true\nlog: { level: warning }\n" +
    'admin: { listen: "127.0.0.1:${ADMIN_PORT}", metrics: false }\n' +
    "static:\n  - { path: /assets, dir: public }\n" +
    'servers:\n  - listen: "127.0.0.1:${PORT}"\n',
);
const ROUTE = { file: { path: "/assets/f10k.bin" } };

function nginxConfig(port: number): string {
  const conf = join(dir, "nginx.conf");
  Deno.writeTextFileSync(
    conf,
    `daemon off;\nworker_processes 1;\nuser ${Deno.env.get("USER") ?? "root"};\n` +
      `pid ${dir}/nginx.pid;\nerror_log stderr warn;\nevents { worker_connections 1024; }\n` +
      `http {\n  access_log off;\n  sendfile on;\n  keepalive_requests 1000000;\n` +
      `  types { application/octet-stream bin; }\n` +
      ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .map((t) => `  ${t}_temp_path ${dir}/${t};\n`).join("") +
      `  server {\n    listen 127.0.0.1:${port};\n` +
      `    location /assets/ { alias ${dir}/public/; }\n  }\n}\n`,
  );
  return conf;
}

const start = (
  name: string,
  make: (port: number) => { cmd: string[]; env?: Record<string, string> },
  children = false,
) => startCpuServer(name, make, { children, routes: ROUTE });

const servers: CpuServer[] = [];
try {
  const siphon = siphonCommand(join(dir, "http.yaml"));
  servers.push(
    await start("siphon-deno static:, 1 worker", (port) => ({
      cmd: siphon.cmd,
      env: { ...siphon.env, PORT: String(port) },
    })),
    await start("plain Deno.serve, the bytes from memory", (port) => ({
      cmd: toolArgs("serve", "bench/peers/plain_file.ts", [String(port), file]),
    })),
    await start("nginx, 1 worker process", (port) => ({
      cmd: ["nginx", "-p", dir, "-c", nginxConfig(port)],
    }), true),
  );
  await runRounds(servers, (name) => name.split(/[ ,]/)[0]);
  writeSamples(servers);
  const [s, plain, nginx] = servers;
  console.log(
    `\n## A 10 KiB static file, 2-core machine, wrk -t1 -c${RUN.connections} -d${RUN.duration}, ` +
      `${RUN.rounds} alternating rounds, medians\n`,
  );
  console.log("| server | req/s | CPU µs/req | p99 ms |\n|---|---:|---:|---:|");
  for (const x of servers) {
    console.log(
      `| ${x.name} | ${med(x, "file", "rps").toFixed(0)} | ${
        med(x, "file", "cpuUs").toFixed(1)
      } | ` +
        `${med(x, "file", "p99ms").toFixed(2)} |`,
    );
  }
  const ratio = (a: CpuServer, b: CpuServer, k: "rps" | "cpuUs") =>
    (med(a, "file", k) / med(b, "file", k)).toFixed(2);
  console.log(
    `\nsiphon-deno ÷ plain Deno.serve: req/s ${ratio(s, plain, "rps")}, CPU ${
      ratio(s, plain, "cpuUs")
    }; ÷ nginx: req/s ${ratio(s, nginx, "rps")}, CPU ${ratio(s, nginx, "cpuUs")}`,
  );
} finally {
  await Promise.all(servers.map((x) => x.proc.stop()));
  Deno.removeSync(dir, { recursive: true });
}
