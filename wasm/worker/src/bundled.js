// Entry point for a deployment with the snapshot bundled into the worker (wrangler.toml: main = "src/bundled.js"
// and a Data rule for *.bin). Refreshing then means redeploying; prefer KV, R2 or a URL for that.
import snapshot from "../snapshot.bin";
import { createWorker } from "./worker.js";

export default createWorker({ snapshot });
