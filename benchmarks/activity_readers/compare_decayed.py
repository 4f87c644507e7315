# compare.py A.duckdb B.duckdb [AS_OF]: the three aggregates of two warehouses, EXCEPT ALL both
# ways (without _built_at); the engagement sums joined on their key: every column exact but the
# weights, compared decayed to AS_OF (epochs differ between builds) within 1e-9 relative
import sys

import duckdb

c = duckdb.connect(); c.execute('set enable_progress_bar=false')
c.execute(f"attach '{sys.argv[1]}' as a (read_only)"); c.execute(f"attach '{sys.argv[2]}' as b (read_only)")
as_of = sys.argv[3] if len(sys.argv) > 3 else '2026-11-01'
for t, excl in [('int_activity_summary', 'exclude (_built_at)'), ('int_deal_last_touch', '')]:
    q = lambda db, t=t, excl=excl: f"select * {excl} from {db}.intermediate.{t}"
    ab = c.execute(f"select count(*) from ({q('a')} except all {q('b')})").fetchall()[0][0]
    ba = c.execute(f"select count(*) from ({q('b')} except all {q('a')})").fetchall()[0][0]
    n = c.execute(f"select count(*) from a.intermediate.{t}").fetchall()[0][0]
    print(f"{t}: {ab}/{ba} of {n}")
cols = "holder_key, activity_type, holder_id, via_deal, activity_count, newest_day, newest_loaded_at"
q = lambda db: f"select {cols} from {db}.intermediate.int_lead_engagement_sums"
ab = c.execute(f"select count(*) from ({q('a')} except all {q('b')})").fetchall()[0][0]
ba = c.execute(f"select count(*) from ({q('b')} except all {q('a')})").fetchall()[0][0]
dec = lambda x: f"{x}.weight * power(2, datediff('day', date '{as_of}', {x}.epoch_day) / 30.0)"
w = c.execute(f"select count(*), count(*) filter (where abs({dec('x')} - {dec('y')}) > 1e-9 * greatest(abs({dec('x')}), abs({dec('y')}))), max(abs({dec('x')} - {dec('y')}) / nullif(abs({dec('x')}), 0)) "
              "from a.intermediate.int_lead_engagement_sums x join b.intermediate.int_lead_engagement_sums y using (holder_key, activity_type)").fetchall()[0]
print(f"int_lead_engagement_sums: {ab}/{ba} of {w[0]} (columns but weight); weights decayed to {as_of} apart by > 1e-9: {w[1]} (max relative {w[2]})")
