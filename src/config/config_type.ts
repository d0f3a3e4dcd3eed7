/**
 * The shape of a loaded config: http.yaml (or siphon.yaml) validated by ./schema.ts, paths made
 * absolute and `auto` resolved by ./load.ts. Types only; every part of the server reads this.
 *
 * @module
 */
import type { ConfigProblem } from "./document.ts";
import type { RawConfig } from "./schema.ts";

/** A route declared in http.yaml, with where it was declared. */
export type ConfigRoute = RawConfig["routes"][number] & { source: string };

/** `app:` — an ASGI application — as the workers load it. */
export interface AppConfig {
  /** `module:attribute` */
  spec: string;
  /** Where `app:` was given (`http.yaml:3:1`), for messages. */
  source: string;
  /** The folder first on `sys.path` for its import: the config's, or the script's with one. */
  folder: string;
  /** No `script:`: the app's own module is the generation's code (`script` names its file). */
  only: boolean;
}

/** A validated config with absolute paths. */
export type Config = Omit<RawConfig, "workers" | "routes" | "python" | "script" | "app"> & {
  /**
   * The Python file the generation starts from, absolute: the script, or with `app:` alone the
   * app's top module (`main.py`, or `pkg/__init__.py`). Its folder is mounted, read and watched.
   */
  script: string;
  app: AppConfig | null;
  python: RawConfig["python"] & {
    wheelhouse: string;
    /** The wheel files `python.packages` resolve to, dependencies included. */
    wheels: string[];
    /** Where `python.packages` are installed (a folder on `sys.path`), once loaded. */
    site: string | null;
  };
  /** The config file as the user named it (used in messages). */
  file: string;
  /** Absolute folder relative paths resolved against: the config file's (http.yaml), or the
   * working folder (siphon.yaml, as siphon-http resolves them). */
  dir: string;
  /** Worker count with `auto` resolved. */
  workers: number;
  routes: ConfigRoute[];
  /** The config files it was read from (absolute): a change to one is a reload. */
  sources: string[];
  /** Keys accepted but not used (siphon.yaml's SIP-core settings …), each at its place. */
  warnings: ConfigProblem[];
  /** Whether file changes reload (siphon.yaml `script.reload: sighup` turns it off). */
  watch: boolean;
  /**
   * The Python this generation runs, as it was when the config was loaded: the script and the
   * `.py` files beside it, by absolute path (./files.ts). Every worker of the generation, a
   * replacement included, imports these texts, not what the files hold later.
   */
  code: Record<string, string>;
};
