#!/usr/bin/env bash
# The end of `make run`: makes sure .dev.vars holds tokens, starts the worker (API + dashboard)
# on 127.0.0.1:8787 with state in .wrangler/state, publishes and activates the demo model,
# prints how to call it, and keeps running until Ctrl-C / SIGTERM, then stops wrangler cleanly.
#
#   bash scripts/serve.sh MODEL.json [PORT]
set -euo pipefail
cd "$(dirname "$0")/.."
model=$1
port=${2:-8787}
state=.wrangler/state
url=http://127.0.0.1:$port

if [[ ! -f .dev.vars ]]; then
    token() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
    printf 'API_TOKEN=%s\nADMIN_TOKEN=%s\n' "$(token)" "$(token)" > .dev.vars
    chmod 600 .dev.vars
    echo "serve: wrote new random tokens to .dev.vars"
fi
api_token=$(sed -n 's/^API_TOKEN=//p' .dev.vars)
admin_token=$(sed -n 's/^ADMIN_TOKEN=//p' .dev.vars)

stopping=0
stop() {
    [[ $stopping == 1 ]] && return
    stopping=1
    echo
    echo "serve: stopping the worker"
    bash scripts/worker.sh stop "$state"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

bash scripts/worker.sh start "$port" "$state"
EBB_ADMIN_TOKEN=$admin_token ./target/release/ebb publish "$model" --to "$url" --activate
# A real customer from the demo data as the example body (the target column left out).
node -e '
const [head, row] = require("fs").readFileSync("demo/customers.csv", "utf8").split("\n");
const names = head.split(","), cells = row.split(","), out = {};
names.forEach((n, i) => { if (n !== "churn" && cells[i] !== "") out[n] = isNaN(cells[i]) ? cells[i] : Number(cells[i]); });
require("fs").writeFileSync("demo/customer.json", JSON.stringify(out) + "\n");'

cat <<INFO

  Ebb is running: API and dashboard on $url
  API token:   $api_token
  Admin token: $admin_token       (both kept in .dev.vars)

  Try:
    curl -s -X POST '$url/v1/predict?explain=3' \\
      -H 'Authorization: Bearer $api_token' -H 'Content-Type: application/json' \\
      --data @demo/customer.json
    curl -s $url/v1/app-info
  API description: $url/v1/openapi.yaml     Stop with Ctrl-C.

INFO
pid=$(cat "$state/wrangler.pid")
parent=$PPID
# Also stop when whoever started us (make) goes away without passing the signal on.
while kill -0 "$pid" 2>/dev/null; do
    kill -0 "$parent" 2>/dev/null || exit 0
    sleep 1
done
echo "serve: wrangler dev exited; its log is $state/wrangler.log"
