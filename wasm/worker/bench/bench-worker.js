// Benchmark worker (not deployed): answers GET /?rounds=R&mode=handle|response by running every request of
// requests.json R times inside the isolate — the Selector call alone, or the call plus building the Response as
// src/worker.js does. workerd's clock does not advance during CPU work, so bench.mjs times it from outside.
import wasmModule from "../pkg/mirrorvane_wasm_bg.wasm";
import { initSync } from "../pkg/mirrorvane_wasm.js";
import { Mirrorvane } from "../src/mirrorvane.js";
import requests from "./requests.json";

initSync({ module: wasmModule });
let state = null;

export default {
  fetch(request, env) {
    if (state === null) {
      state = new Mirrorvane();
      state.load(env.SNAPSHOT);
    }
    const params = new URL(request.url).searchParams;
    const rounds = Number(params.get("rounds"));
    const response = params.get("mode") === "response";
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      for (const q of requests) {
        const a = state.handle(q.url, q.ip, q.hints, q.now, { seed: q.seed });
        if (response) new Response(a.body, { status: a.status, headers: a.headers });
        bytes += a.body.length;
      }
    }
    return new Response(String(bytes));
  },
};
