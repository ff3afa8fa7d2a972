// The runtime's own floor for bench/http.sh: the smallest JavaScript worker (a constant JSON
// answer, no bindings, no wasm), served by the same workerd the same way as Ebb's worker
// (`node bench/http/serve.mjs ... --hello`). What no worker can beat on this machine.
export default {
    async fetch() {
        return new Response('{"status":"ok"}', {
            headers: { "content-type": "application/json", "cache-control": "no-store" },
        });
    },
};
