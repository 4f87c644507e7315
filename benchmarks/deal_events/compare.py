"""Tables of two warehouses (A: main's build, B: this branch's), EXCEPT ALL both ways on their
common columns but the build columns, and the row counts:
compare.py A.duckdb B.duckdb [schema.table ...]"""
import sys

import duckdb

a, b = sys.argv[1:3]
tables = sys.argv[3:] or ["intermediate.int_stage_events"]
con = duckdb.connect()
con.execute(f"attach '{a}' as a (read_only)")
con.execute(f"attach '{b}' as b (read_only)")
for t in tables:
    columns = [{r[0] for r in con.execute(f"select column_name from (describe {db}.{t})").fetchall()}
               for db in ("a", "b")]
    common = ", ".join(sorted((columns[0] & columns[1])
                              - {"_built_at", "inputs_hash", "rebuild_signature"}))
    x, y = (f"(select {common} from {db}.{t})" for db in ("a", "b"))
    print(t, con.execute(f"select (select count(*) from ({x} except all {y})), "
                         f"(select count(*) from ({y} except all {x})), "
                         f"(select count(*) from {x}), (select count(*) from {y})").fetchone())
