/** The ReDoS probe's worker thread (redos.ts): runs one regex over its adversarial inputs, reports the time. */
import { parentPort } from "node:worker_threads";
import { adversarialInputs, type RegexProbe } from "./redos.js";

parentPort?.on("message", (p: RegexProbe) => {
  try {
    const re = new RegExp(p.pattern, p.flags);
    const inputs = adversarialInputs(p.pattern);
    const start = performance.now();
    for (const input of inputs) re.test(input);
    parentPort?.postMessage({ ms: performance.now() - start });
  } catch (e) {
    parentPort?.postMessage({ error: (e as Error).message });
  }
});

parentPort?.postMessage({ ready: true });
