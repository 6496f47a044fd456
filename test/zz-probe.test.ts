import { it } from "vitest";
import { createHost, S_OK, hresultName } from "../src/index.js";
it("probe", async () => {
  const host = await createHost({ clock: "virtual" });
  console.log("mem0", host.coreMemoryBytes);
  try { await createHost({ maxMemoryBytes: 65536 }); } catch (e) { console.log("1page", String(e)); }
  const h4 = await createHost({ clock: "virtual", maxMemoryBytes: 4 * 65536 });
  console.log("mem4", h4.coreMemoryBytes);
  const tm = h4.taskManager;
  let n = 0; let hr = 0;
  for (;;) { const out: any = {}; hr = tm.createTask(0, function*(){}, undefined, out); if (hr !== S_OK) break; n++; }
  console.log("created", n, hresultName(hr), h4.coreMemoryBytes);
  const h5 = await createHost({ clock: "virtual", maxMemoryBytes: 4 * 65536 });
  const out: any = {}; h5.taskManager.createTask(1024*1024, function*(){}, undefined, out);
  const t = out.value; console.log(t.switchIn()); 
  let d = 0; hr = h5.taskManager.reverseEnterRuntime();
  while ((hr = (d % 2 ? h5.taskManager.reverseEnterRuntime() : h5.taskManager.leaveRuntime(d))) === S_OK) d++;
  console.log("depth", t.depth, hresultName(hr), h5.coreMemoryBytes);
  let m = 0; for (;;) { const o: any = {}; const r = host.taskManager.createTask(0, function*(){}, undefined, o); if (r) break; m++; if (m > 3000) break; }
  console.log("mem after 3000", host.coreMemoryBytes);
});
