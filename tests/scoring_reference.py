"""What the lead-scoring tables must hold, worked out independently of the dbt models:
marts.lead_score_history from each night's full marts.lead_scores (in Python: a contact's first
scoring, each change of its grade or sales-readiness with that night's scores, its removal), and
engagement as the direct sum of points x 0.5^(age / half-life) over every activity (SQL over
int_activities, as int_lead_engagement computed it before the sums). test_lead_scoring and
test_incremental compare the tables with them."""

SCORES = ("select contact_id, fit_score, engagement_score, total_score, grade, is_sales_ready "
          "from marts.lead_scores")
HISTORY = ("select contact_id, scored_as_of, change_type, fit_score, engagement_score, "
           "total_score, grade, is_sales_ready from marts.lead_score_history")


def scores_of(con) -> dict:
    """One night's marts.lead_scores: contact -> (fit, engagement, total, grade, ready)."""
    return {row[0]: row[1:] for row in con.execute(SCORES).fetchall()}


def change_points(nights: list) -> set:
    """The history rows of `nights`, a list of (date, scores_of(...)) in date order."""
    rows, last = set(), {}
    for day, scores in nights:
        for contact, now in scores.items():
            before = last.get(contact)
            if before is None:
                change = "first_scored"
            else:
                grade, ready = now[3] != before[3], now[4] != before[4]
                change = ("grade_and_sales_ready" if grade and ready else "grade" if grade
                          else "sales_ready" if ready else None)
            if change:
                rows.add((contact, day, change, *now))
            last[contact] = now
        for contact in [c for c in last if c not in scores]:
            rows.add((contact, day, "removed", None, None, None, None, None))
            del last[contact]
    return rows


def state_on(con, day, table="marts.lead_score_history") -> dict:
    """Each contact's grade and readiness on `day` as a BI tool reads it: the latest history row
    on or before that day, unless that row says the contact was removed."""
    return {row[0]: row[1:] for row in con.execute(f"""
        select contact_id, grade, is_sales_ready from (
            select *, row_number() over (partition by contact_id order by scored_as_of desc) as n
            from {table} where scored_as_of <= ?)
        where n = 1 and change_type <> 'removed'""", [day]).fetchall()}


def engagement_errors(con, as_of, catalog="", half_life=30) -> tuple:
    """int_lead_engagement (of `catalog`, e.g. "inc.", or the default) against the direct sum as of `as_of`: rows
    in only one of them, rows whose count or newest age differ, the largest relative error of
    the points, and the rows compared."""
    return con.execute(f"""
        with direct as (
            select a.contact_id, a.activity_type, count(*) as n,
                min(date_diff('day', cast(a.occurred_at as date), cast(? as date))) as newest,
                sum(p.points * power(0.5, date_diff('day', cast(a.occurred_at as date),
                    cast(? as date)) / {half_life}.0)) as points
            from {catalog}intermediate.int_activities as a
            join {catalog}config.lead_score_engagement_points as p
                using (activity_type)
            where a.contact_id is not null and p.points <> 0
                and a.occurred_at < cast(? as date) + interval 1 day
            group by all)
        select count(*) filter (where d.contact_id is null or e.contact_id is null),
            count(*) filter (where d.n <> e.activity_count or d.newest <> e.newest_age_days),
            max(abs(e.points - d.points) / abs(d.points)), count(*)
        from direct as d full join {catalog}intermediate.int_lead_engagement as e
            using (contact_id, activity_type)""", [as_of] * 3).fetchone()
