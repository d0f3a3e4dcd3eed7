/**
 * Test certificates made with openssl: a CA and a server certificate it signed for
 * localhost / 127.0.0.1 (rustls refuses a self-signed CA used as the server certificate).
 *
 * @module
 */
import { join } from "node:path";

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "null", stderr: "piped" }).output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

/** Paths of the files {@link makeCerts} writes. */
export interface Certs {
  ca: string;
  cert: string;
  key: string;
}

/**
 * Writes `ca.pem`, `cert.pem` and `key.pem` into `dir`.
 *
 * @param dir an existing folder
 * @returns the paths
 */
export async function makeCerts(dir: string): Promise<Certs> {
  const at = (f: string) => join(dir, f);
  await openssl([
    ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"],
    ...["-subj", "/CN=siphon test CA", "-keyout", at("ca.key"), "-out", at("ca.pem")],
  ]);
  await openssl([
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost"],
    ...["-keyout", at("key.pem"), "-out", at("leaf.csr")],
  ]);
  Deno.writeTextFileSync(at("ext.cnf"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  await openssl([
    ...["x509", "-req", "-in", at("leaf.csr"), "-CA", at("ca.pem"), "-CAkey", at("ca.key")],
    ...["-CAcreateserial", "-days", "1", "-extfile", at("ext.cnf"), "-out", at("cert.pem")],
  ]);
  return { ca: at("ca.pem"), cert: at("cert.pem"), key: at("key.pem") };
}
