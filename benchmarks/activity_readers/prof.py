# prof.py DB SQLFILE [label]: run the select as a temp table, print CPU s and the top operators
import json
import resource
import sys
import time
from pathlib import Path

import duckdb

db, f = sys.argv[1], sys.argv[2]
sql = Path(f).read_text()
c = duckdb.connect(db, read_only=True, config={'threads': 2, 'memory_limit': '2GB'})
c.sql("set enable_profiling='json'; set profiling_output='/tmp/prof.json'")
r0 = resource.getrusage(resource.RUSAGE_SELF); t0 = time.time()
c.execute(f"create temp table x as {sql}"); n = -1
r1 = resource.getrusage(resource.RUSAGE_SELF)
print(f"{sys.argv[3] if len(sys.argv) > 3 else f}: rows {n} CPU {r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime:.2f} wall {time.time() - t0:.2f}")
p = json.loads(Path('/tmp/prof.json').read_text())
ops = []
def walk(node, depth):
    ops.append((node.get('timing', 0), depth, node.get('name'), node.get('intermediate_rows'), node.get('extra_info') or {}))
    for ch in node.get('children', []): walk(ch, depth + 1)
for ch in p['operator']: walk(ch, 0)
print("  cpu_time", round(p['query']['cpu_time'], 2), "spilled", p['system']['total_bytes_spilled'])
for t, d, name, card, extra in sorted(ops, key=lambda o: -o[0])[:int(sys.argv[4]) if len(sys.argv) > 4 else 12]:
    ex = {k: v for k, v in extra.items() if k in ('Groups', 'Aggregates', 'Table', 'Join Type', 'Conditions', 'Filters', 'CTE Name')}
    print(f"  {t:6.2f} d{d:<3} {name:22s} {card:>10} {str(ex)[:160]}")
