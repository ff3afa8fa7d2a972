# Predict latency through a running worker, for comparing two worker builds (the registry read path):
#   python3 bench/registry-latency.py PORT API_TOKEN CUSTOMERS.csv LABEL
# 200 warm-up requests, then 1,500 back-to-back POST /v1/predict with the first customer of the CSV
# (registry served from the isolate copy) and 15 requests each after 1.1 s idle (each one refreshes
# the registry from storage: past the 1 s copy). Prints p50/p90/p99 in ms.
import csv, json, sys, time, http.client
port, token, csv_path, label = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
row = next(csv.DictReader(open(csv_path)))
rec = {}
for k, v in row.items():
    if k == "churn" or v == "":
        continue
    try:
        rec[k] = float(v) if k != "customer_id" else v
    except ValueError:
        rec[k] = v
body = json.dumps(rec)
conn = http.client.HTTPConnection("127.0.0.1", port)
def one():
    t = time.perf_counter()
    conn.request("POST", "/v1/predict", body, {"authorization": f"Bearer {token}", "content-type": "application/json"})
    r = conn.getresponse(); data = r.read()
    assert r.status == 200, (r.status, data)
    return (time.perf_counter() - t) * 1000
for _ in range(200): one()
hot = sorted(one() for _ in range(1500))
cold = []
for _ in range(15):
    time.sleep(1.1)
    cold.append(one())
cold.sort()
q = lambda xs, p: xs[min(len(xs) - 1, int(p * len(xs)))]
print(f"{label}: back-to-back n={len(hot)} p50={q(hot,.5):.2f} p90={q(hot,.9):.2f} p99={q(hot,.99):.2f} ms | after >1 s idle (registry refresh) n={len(cold)} p50={q(cold,.5):.2f} p90={q(cold,.9):.2f} ms")
