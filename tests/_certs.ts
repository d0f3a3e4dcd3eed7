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

/**
 * Writes a client certificate (clientAuth) for `name`, signed by the CA whose files are
 * `<ca>.pem` and `<ca>.key` in `dir`; makes that CA first when it does not exist.
 *
 * @param dir the folder {@link makeCerts} wrote to
 * @param name the certificate's CN, also the file name stem
 * @param ca file stem of the signing CA (`ca` is the one {@link makeCerts} made)
 * @param version 1 leaves out the extensions, as `openssl x509 -req` without `-extfile` does
 * @returns the certificate and key paths
 */
export async function makeClientCert(
  dir: string,
  name: string,
  ca = "ca",
  version: 1 | 3 = 3,
): Promise<{ cert: string; key: string }> {
  const at = (f: string) => join(dir, f);
  try {
    Deno.statSync(at(`${ca}.pem`));
  } catch {
    await openssl([
      ...["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", `/CN=${ca}`],
      ...["-keyout", at(`${ca}.key`), "-out", at(`${ca}.pem`)],
    ]);
  }
  await openssl([
    ...["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${name}/O=siphon tests`],
    ...["-keyout", at(`${name}.key`), "-out", at(`${name}.csr`)],
  ]);
  Deno.writeTextFileSync(at("client.cnf"), "extendedKeyUsage=clientAuth\n");
  await openssl([
    ...[
      "x509",
      "-req",
      "-in",
      at(`${name}.csr`),
      "-CA",
      at(`${ca}.pem`),
      "-CAkey",
      at(`${ca}.key`),
    ],
    ...["-CAcreateserial", "-days", "1", "-out", at(`${name}.pem`)],
    ...version === 3 ? ["-extfile", at("client.cnf")] : [],
  ]);
  return { cert: at(`${name}.pem`), key: at(`${name}.key`) };
}
