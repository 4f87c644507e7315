"""A night's tables by main's code (A) against this branch's (B), and B against a full refresh
(F, optional): EXCEPT ALL both ways, by column name."""
import sys

import duckdb

a, b = sys.argv[1:3]
f = sys.argv[3] if len(sys.argv) > 3 else None
c = duckdb.connect()
c.execute("set threads=2; set memory_limit='2GB'")
c.execute(f"attach '{a}' as a (read_only)"); c.execute(f"attach '{b}' as b (read_only)")
if f: c.execute(f"attach '{f}' as f (read_only)")
def both(x, y, label):
    r = c.execute(f"select (select count(*) from (from {x} except all from {y})), "
                  f"(select count(*) from (from {y} except all from {x})), (select count(*) from {x})").fetchone()
    print(f"{label}: {r[0]}/{r[1]} of {r[2]}", flush=True)
lt = "(select deal_id, last_activity_at, last_touch_at from {}.intermediate.int_deal_last_touch)"
both(lt.format('a'), lt.format('b'), 'int_deal_last_touch A vs B')
# the summary per holder (A's grain) from B's rows per holder and deal
sa = ("(select holder_key, contact_id, activity_count, last_activity_at, activities_before_as_of "
      "from a.intermediate.int_activity_summary)")
sb = ("(select holder_key, max(contact_id), sum(activity_count), max(last_activity_at), "
      "sum(activities_before_as_of) from b.intermediate.int_activity_summary "
      "where holder_key is not null group by holder_key)")
both(sa, sb, 'int_activity_summary per holder A vs B')
# same epoch in A and B (both first built as of the same day): weights compared to 1e-9 relative
s = ("(select holder_key, holder_id, via_deal, activity_type, activity_count, newest_day, "
     "newest_loaded_at, epoch_day, covered_through, rebuild_signature, "
     "round(weight / {m}, 9) as w from {db}.intermediate.int_lead_engagement_sums)")
m = "(select max(weight) from a.intermediate.int_lead_engagement_sums)"
both(s.format(db='a', m=m), s.format(db='b', m=m), 'int_lead_engagement_sums A vs B (weights /max, 9 dp)')
w = c.execute("select count(distinct _built_at) from b.intermediate.int_lead_engagement_sums").fetchone()
print("B sums written by", w[0], "runs")
for db in ('a', 'b'):
    n = c.execute(f"select count(*), count(distinct contact_id) from {db}.intermediate.int_activity_summary "
                  f"where _built_at = (select max(_built_at) from {db}.intermediate.int_activity_summary)").fetchone()
    print(f"{db}: summary rows written by the night {n[0]}, their contacts {n[1]}")
if f:
    cols = ("summary_key, holder_key, deal_id, contact_id, activity_count, last_activity_at, "
            "activities_before_as_of, last_touch_at")
    both(f"(select {cols} from b.intermediate.int_activity_summary)",
         f"(select {cols} from f.intermediate.int_activity_summary)", 'summary B vs full refresh')
    both(lt.format('b'), lt.format('f'), 'int_deal_last_touch B vs full refresh')
    # the full refresh's epoch is the night's as-of day: weights compared once decayed to it
    d = ("(select holder_key, holder_id, via_deal, activity_type, activity_count, newest_day, "
         "newest_loaded_at, round(weight * pow(2, -datediff('day', epoch_day, date '{asof}') / 30.0) / {m}, 9) "
         "from {db}.intermediate.int_lead_engagement_sums)")
    asof = c.execute("select max(covered_through) from b.intermediate.int_lead_engagement_sums").fetchone()[0]
    hl = None
    both(d.format(db='b', asof=asof, m=m.replace('a.', 'b.')), d.format(db='f', asof=asof, m=m.replace('a.', 'b.')),
         'int_lead_engagement_sums B vs full refresh (decayed to the as-of day, /max, 9 dp)')
