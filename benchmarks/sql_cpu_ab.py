"""CPU seconds of compiled model SQL, before (A) against after (B), alternating A B / B A each
round, every query in a fresh process (DuckDB 2 threads, 2GB, UTC: the night's settings on this
machine). CPU, not wall: other work on the machine stretches wall time, not the query's CPU.

    dbt compile -s <models> --vars '{as_of: <day>}' --target-path A_TARGET   (in each checkout)
    python -m benchmarks.sql_cpu_ab WAREHOUSE A_DIR B_DIR ROUNDS model[,model...]

A_DIR and B_DIR hold <model>.sql (the compiled files); WAREHOUSE is opened read-only.
"""

import subprocess
import sys

CHILD = r'''
import duckdb, resource, sys
con = duckdb.connect(sys.argv[1], read_only=True)
con.execute("set threads = 2; set memory_limit = '2GB'; set TimeZone = 'UTC'; "
            "set enable_progress_bar = false")
sql = open(sys.argv[2]).read()
before = resource.getrusage(resource.RUSAGE_SELF)
con.execute(sql).fetchall()
after = resource.getrusage(resource.RUSAGE_SELF)
print(round(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, 2))
'''


def main(warehouse: str, a_dir: str, b_dir: str, rounds: int, models: list[str]) -> None:
    seconds: dict = {}
    for n in range(rounds):
        for side in ("A", "B") if n % 2 == 0 else ("B", "A"):
            for model in models:
                folder = a_dir if side == "A" else b_dir
                out = subprocess.run([sys.executable, "-c", CHILD, warehouse,
                                      f"{folder}/{model}.sql"],
                                     capture_output=True, text=True, check=True).stdout
                seconds.setdefault(model, {}).setdefault(side, []).append(float(out))
    for model, sides in seconds.items():
        print(model, "CPU s", {side: values for side, values in sorted(sides.items())})


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5].split(","))
