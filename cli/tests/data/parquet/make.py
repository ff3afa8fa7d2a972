"""Writes the Parquet fixtures of cli/tests/parquet.rs (see README.md beside this file).

Run once from the repository root; the outputs are committed:
    python3 -m venv /tmp/pq-venv && /tmp/pq-venv/bin/pip install pyarrow==21.0.0
    /tmp/pq-venv/bin/python cli/tests/data/parquet/make.py /path/to/mlc_churn.csv
"""

import datetime
import decimal
import io
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROWS = 300
HERE = Path(__file__).resolve().parent


def main(source: str) -> None:
    # The first 300 data rows of mlc_churn.csv, byte for byte: the CSV twin of churn.parquet.
    lines = Path(source).read_text().splitlines(keepends=True)[: ROWS + 1]
    csv_text = "".join(lines)
    (HERE / "churn.csv").write_text(csv_text)

    # Types as pyarrow's CSV reader infers them (int64, double, string): what a warehouse
    # export of this table holds. Three row groups, Snappy (pyarrow's default).
    churn = pacsv.read_csv(io.BytesIO(csv_text.encode()))
    pq.write_table(churn, HERE / "churn.parquet", row_group_size=100)

    # Nulls (missing values), a NaN (missing too) and an infinity (a bad number: quarantined),
    # with its CSV twin written by pyarrow (nulls as empty cells, the infinity as `inf`).
    def with_nulls(column: str, every: int, offset: int) -> pa.Array:
        values = churn[column].to_pylist()
        return pa.array(
            [None if i % every == offset else v for i, v in enumerate(values)],
            type=churn.schema.field(column).type,
        )

    nulls = churn
    for column, every, offset in [
        ("state", 11, 3),
        ("total_day_minutes", 7, 1),
        ("number_customer_service_calls", 13, 5),
        ("voice_mail_plan", 17, 2),
    ]:
        nulls = nulls.set_column(
            nulls.schema.get_field_index(column), column, with_nulls(column, every, offset)
        )
    eve = nulls["total_eve_minutes"].to_pylist()
    eve[10] = float("nan")
    eve[20] = float("inf")
    nulls = nulls.set_column(
        nulls.schema.get_field_index("total_eve_minutes"),
        "total_eve_minutes",
        pa.array(eve, type=pa.float64()),
    )
    pq.write_table(nulls, HERE / "nulls.parquet", row_group_size=100)
    pacsv.write_csv(nulls, HERE / "nulls.csv")

    # Arrow types that settle what text would leave open: a timestamp (UTC) and a date, a
    # dictionary-encoded string, a string of digits (a postcode: categorical, not numeric), an
    # integer 0/1 (numeric, not yes/no), a boolean, a decimal and an integer customer id.
    n = churn.num_rows
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    typed = pa.table(
        {
            "customer_id": pa.array(range(1000, 1000 + n), type=pa.int64()),
            "snapshot": pa.array(
                [base + datetime.timedelta(days=30 * (i % 6), hours=i % 24) for i in range(n)],
                type=pa.timestamp("us", tz="UTC"),
            ),
            "signup": pa.array(
                [datetime.date(2020, 1, 1) + datetime.timedelta(days=7 * i) for i in range(n)],
                type=pa.date32(),
            ),
            "state": pc.dictionary_encode(churn["state"]),
            "postcode": pa.array([f"{10000 + (i * 37) % 9}" for i in range(n)]),
            "paperless": pa.array([i % 2 for i in range(n)], type=pa.int8()),
            "international_plan": pc.equal(churn["international_plan"], "yes"),
            "monthly_charge": pa.array(
                [decimal.Decimal(f"{v:.2f}") for v in churn["total_day_charge"].to_pylist()],
                type=pa.decimal128(10, 2),
            ),
            "number_customer_service_calls": churn["number_customer_service_calls"],
            "total_day_minutes": churn["total_day_minutes"],
            "churn": churn["churn"],
        }
    )
    pq.write_table(typed, HERE / "typed.parquet", row_group_size=128)

    # A column of a type ebb does not read (a list), and a file compressed with zstd.
    nested = churn.select(["state", "churn"]).append_column(
        "tags", pa.array([["a", "b"]] * n, type=pa.list_(pa.string()))
    )
    pq.write_table(nested, HERE / "nested.parquet")
    pq.write_table(churn, HERE / "zstd.parquet", compression="zstd")

    # Cut short: the first half of churn.parquet, so the footer (schema, row groups) is gone.
    whole = (HERE / "churn.parquet").read_bytes()
    (HERE / "corrupt.parquet").write_bytes(whole[: len(whole) // 2])


if __name__ == "__main__":
    main(sys.argv[1])
