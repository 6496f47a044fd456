// A worker module that imports the library, bundled by Vite with what it imports (`?worker&url`).
// Vite drops a worker entry's exports, so it has no `main`: its top level finds the start through
// workerParent() and answers the name of an HRESULT, which shows the library's code ran in the worker.
import { hresultName } from "../../../src/base/hresult.js";
import { workerParent } from "../../../src/threads/worker-start.js";

const parent = workerParent();
parent?.port.postMessage({ data: parent.data, name: hresultName(0x80070057) });
