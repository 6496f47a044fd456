// A host's creation: what a program (or a test suite, which makes thousands) pays per createHost.
// The core's memory reserved at creation is counted by V8 as external memory, and enough of it
// starts a full garbage collection (src/core/load.ts): this case keeps that from coming back.

import { createHost } from "../../dist/index.js";
import { fail } from "./support.js";

export const HOST_CASES = [
  {
    name: "createHost() with default options",
    group: "hosts",
    op: "host",
    async setup() {
      const hosts = [];
      return {
        async run(n) {
          let live = 0;
          for (let i = 0; i < n; i++) {
            const host = await createHost();
            live += host.liveTaskCount; // the root task: 1 a host
            hosts.push(host);
            if (hosts.length > 64) hosts.shift(); // some stay alive, as in a test suite
          }
          return live;
        },
        verify(iterations, sink) {
          if (sink !== iterations) fail(`createHost: ${sink} root tasks, expected ${iterations}`);
        },
      };
    },
  },
];
