"""Request bodies for bench/http.sh, from the generated CSV: each customer is the JSON object of
its raw fields (empty cells left out, numbers as numbers, the `churn` target dropped) - the same
shape `make run` prints as its example body.

  python bodies.py CSV OUT_DIR [--lua 100] [--batch 1000]

Writes OUT_DIR/bodies.lua (a Lua table of the first --lua customers' bodies, for wrk), the same
bodies one per line in OUT_DIR/bodies.jsonl (for pauses.mjs),
OUT_DIR/batch.json ({"customers": [...]} with --batch customers, for POST /v1/predict/batch)
and OUT_DIR/customer.json (the first customer).
"""

import argparse
import csv
import json
import os


def cell(value: str):
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value else number


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("out")
    ap.add_argument("--lua", type=int, default=100)
    ap.add_argument("--batch", type=int, default=1000)
    args = ap.parse_args()
    customers = []
    with open(args.csv, newline="") as f:
        for row in csv.DictReader(f):
            customers.append({k: cell(v) for k, v in row.items() if k != "churn" and v != ""})
            if len(customers) >= max(args.lua, args.batch):
                break
    os.makedirs(args.out, exist_ok=True)
    bodies = [json.dumps(c, separators=(",", ":")) for c in customers[: args.lua]]
    with open(os.path.join(args.out, "bodies.lua"), "w") as f:
        f.write("return {\n")
        for b in bodies:
            assert "]==]" not in b
            f.write(f"[==[{b}]==],\n")
        f.write("}\n")
    with open(os.path.join(args.out, "bodies.jsonl"), "w") as f:
        f.write("".join(b + "\n" for b in bodies))
    with open(os.path.join(args.out, "batch.json"), "w") as f:
        json.dump({"customers": customers[: args.batch]}, f, separators=(",", ":"))
    with open(os.path.join(args.out, "customer.json"), "w") as f:
        f.write(bodies[0] + "\n")


if __name__ == "__main__":
    main()
