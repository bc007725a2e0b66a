// Serves Workers from plain workerd, each on a socket of its own, with
// nothing in front of it: no wrangler dev proxy, no Miniflare entry worker,
// no request logging. Miniflare (edge/node_modules) only writes the workerd
// config and provides the simulated KV, Cache API and Durable Object storage.
//
// Used to measure what a request costs the isolate itself: CPU per request
// of the workerd process, for our Worker and for trivial JavaScript Workers
// on the same sockets and storage.
//
// Usage: node direct.mjs <settings.json>; prints "ready" once every socket
// answers and runs until SIGTERM. The settings (written by the Rust harness):
//   miniflare:   path of miniflare's index.js
//   persistRoot: the `v3` directory of a `wrangler dev --persist-to` state
//   workers:     [{ name, port, modulesRoot, modules: [{ type, path }], bindings,
//                  kvNamespaces, durableObjects }]

import { readFileSync } from "node:fs";

const settings = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { Miniflare } = await import(settings.miniflare);

const workers = settings.workers.map((w) => ({
  name: w.name,
  compatibilityDate: "2025-09-01",
  modules: w.modules,
  modulesRoot: w.modulesRoot,
  bindings: w.bindings ?? {},
  kvNamespaces: w.kvNamespaces ?? {},
  durableObjects: w.durableObjects ?? {},
  unsafeDirectSockets: [{ host: "127.0.0.1", port: w.port }],
}));

const mf = new Miniflare({
  host: "127.0.0.1",
  port: 0,
  defaultPersistRoot: settings.persistRoot,
  workers,
});
await mf.ready;
console.log("ready");

const stop = async () => {
  await mf.dispose();
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
