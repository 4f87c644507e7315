"""GX imported with scipy.stats deferred and, on DuckDB, without pyspark
(orchestration/checks/gx_import.py), each case in a fresh interpreter: whether a module ran
depends on everything a process imported before."""

import json
import os
import subprocess
import sys
import textwrap

# A suite on a one-column table through validate(), as the asset checks run one; prints each
# check's outcome and whether scipy.stats' code ran.
SCRIPT = textwrap.dedent("""
    import json, sys
    import duckdb
    from orchestration.checks.validate import validate
    con = duckdb.connect()
    con.execute("create table t as select range % 3 as v from range(300)")
    suite = json.loads(sys.argv[1])
    outcomes = validate(con, {"name": "t", "meta": {"select": "select v from t"}, **suite}, "r")
    seen = {"passed": {o.check: o.passed for o in outcomes},
            "scipy_stats_ran": "scipy.stats._stats_py" in sys.modules,
            "pyspark_imported": "pyspark" in sys.modules}
    import pyspark.sql  # importable again, whatever GX saw
    print(json.dumps(seen))
""")


def _validate(*expectations: dict, engine: str = "duckdb") -> dict:
    suite = {"expectations": [{"severity": "warning", **e} for e in expectations]}
    done = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps(suite)], check=True,
                          capture_output=True, text=True,
                          env={**os.environ, "SALESPIPE_ENGINE": engine})
    return json.loads(done.stdout.strip().splitlines()[-1])


IN_SET = {"type": "expect_column_values_to_be_in_set",
          "kwargs": {"column": "v", "value_set": [0, 1, 2]}, "meta": {"check": "in_set"}}


def test_the_stored_suites_expectations_run_without_scipy_stats_or_pyspark():
    assert _validate(IN_SET) == {"passed": {"in_set": True}, "scipy_stats_ran": False,
                                 "pyspark_imported": False}


def test_on_spark_gx_imports_pyspark_as_before():
    assert _validate(IN_SET, engine="spark")["pyspark_imported"]


def test_an_expectation_that_uses_scipy_stats_still_gets_it():
    # KL divergence of v (a third each of 0, 1, 2) from a partition: scipy.stats.entropy
    def kl(check: str, weights: list[float]) -> dict:
        partition = {"bins": [-0.5, 0.5, 1.5, 2.5], "weights": weights}
        return {"type": "expect_column_kl_divergence_to_be_less_than",
                "kwargs": {"column": "v", "partition_object": partition, "threshold": 0.1},
                "meta": {"check": check}}

    result = _validate(kl("same", [1 / 3, 1 / 3, 1 / 3]), kl("skewed", [0.8, 0.1, 0.1]))
    assert result["passed"] == {"same": True, "skewed": False} and result["scipy_stats_ran"]
