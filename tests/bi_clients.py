"""The clients BI tools read the published file with, for the tests: an older DuckDB release in
its own virtualenv (what a BI tool's embedded driver is), and SQLAlchemy with duckdb-engine (how
Superset connects).

The older DuckDB's virtualenv: benchmarks/duckdb_releases.py (made once per machine, reused).
"""

# The oldest DuckDB the README promises, and the current 1.x long-term-support release.
OLDEST, LTS = "1.1.3", "1.4.5"

# Reads the published file (argv[1]) read-only, as a BI tool does, and prints one JSON line:
# the publication's version, each mart's rows as read (every row fetched) next to
# meta.tables, and the comments a data browser shows. With argv[2] (a file whose existence
# means stop) it reads in a loop, as the test of readers during a run needs.
DUCKDB_READER = r"""
import json, os, sys, time, duckdb
path, stop = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
while True:
    try:
        con = duckdb.connect(path, read_only=True)
        version = con.execute("select version from meta.publication").fetchone()[0]
        expected = dict(con.execute("select table_name, row_count from meta.tables").fetchall())
        actual = {t: len(con.execute(f'select * from marts."{t}"').fetchall()) for t in expected}
        tables = sorted(r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'").fetchall())
        comments = dict(con.execute(
            "select table_name || '.' || column_name, comment from duckdb_columns() "
            "where schema_name = 'marts' and comment is not null").fetchall())
        comments.update(con.execute("select table_name, comment from duckdb_tables() "
                                    "where schema_name = 'marts' and comment is not null"
                                    ).fetchall())
        con.close()
        print(json.dumps({"duckdb": duckdb.__version__, "version": version, "tables": tables,
                          "consistent": expected == actual and tables == sorted(expected),
                          "rows": actual,
                          "comments": comments}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    if stop is None or os.path.exists(stop):
        break
    time.sleep(0.2)
"""

# The same through SQLAlchemy and duckdb-engine, as Superset connects: a `duckdb:///` URL,
# read-only, a new engine per read (Superset's NullPool), the tables listed by reflection.
SQLALCHEMY_READER = r"""
import json, os, sys, time
import sqlalchemy as sa
path, stop = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
while True:
    try:
        engine = sa.create_engine(f"duckdb:///{path}", connect_args={"read_only": True},
                                  poolclass=sa.pool.NullPool)
        with engine.connect() as con:
            version = con.execute(sa.text("select version from meta.publication")).scalar()
            expected = dict(con.execute(sa.text(
                "select table_name, row_count from meta.tables")).fetchall())
            inspector = sa.inspect(con)
            tables = sorted(inspector.get_table_names(schema="marts"))
            actual = {t: len(con.execute(sa.text(f'select * from marts."{t}"')).fetchall())
                      for t in tables}
            comments = {t: inspector.get_table_comment(t, schema="marts")["text"]
                        for t in tables}
        engine.dispose()
        print(json.dumps({"version": version, "tables": tables, "consistent": expected == actual,
                          "rows": actual, "comments": comments}), flush=True)
    except Exception as exc:
        print(json.dumps({"error": repr(exc)}), flush=True)
    if stop is None or os.path.exists(stop):
        break
    time.sleep(0.2)
"""
