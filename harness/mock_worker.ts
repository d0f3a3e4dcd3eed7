/// <reference lib="deno.worker" />
/** One thread of `drive serve --threads N`. */
import { serveMock } from "./mock.ts";

self.onmessage = (e: MessageEvent<{ port: number; hostname: string }>) => {
  serveMock(e.data.port, e.data.hostname, true);
};
