{#- Engine differences live here, behind adapter.dispatch, so models stay portable. -#}

{#- First element of a `;`-separated id list ("12;15" -> "12"). -#}
{% macro first_list_item(expr, sep=';') -%}
    nullif(trim({{ dbt.split_part(expr, "'" ~ sep ~ "'", 1) }}), '')
{%- endmacro %}

{#- True when two values are equal or both null (dbt.equals gives that only behind a behaviour
    flag; IS NOT DISTINCT FROM is not in every engine's SQL). -#}
{% macro same_or_both_null(left, right) -%}
    (coalesce({{ left }} = {{ right }}, false) or ({{ left }} is null and {{ right }} is null))
{%- endmacro %}

{#- Hours between two timestamps, fractional. -#}
{% macro hours_between(start, end) -%}
    {{ return(adapter.dispatch('hours_between', 'salespipe')(start, end)) }}
{%- endmacro %}

{% macro default__hours_between(start, end) -%}
    ({{ dbt.datediff(start, end, 'second') }} / 3600.0)
{%- endmacro %}

{#- A whole number from text, null where the text is not one ("1-10" -> null). -#}
{% macro try_to_bigint(expr) -%}
    {{ return(adapter.dispatch('try_to_bigint', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__try_to_bigint(expr) -%}
    try_cast({{ expr }} as {{ dbt.type_bigint() }})
{%- endmacro %}

{#- Continuous (interpolated) percentile of `expr` within a group, `fraction` in [0, 1]. -#}
{% macro percentile_cont(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'salespipe')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expr, fraction) -%}
    quantile_cont({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro postgres__percentile_cont(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{#- A number from text, null where the text is not one ("Yes" -> null); dbt.safe_cast is a
    plain cast on DuckDB. Used by lead scoring's gte/lte rules. -#}
{% macro try_to_double(expr) -%}
    {{ return(adapter.dispatch('try_to_double', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__try_to_double(expr) -%}
    try_cast({{ expr }} as {{ type_double() }})
{%- endmacro %}

{#- An 8-byte float type: dbt.type_float() is a 4-byte REAL on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'salespipe')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{#- An exact decimal for running sums of amounts (pipeline metrics): what is added and later
    taken off cancels exactly, where a float running sum keeps rounding residue.
    dbt.type_numeric() has only 6 digits after the point. -#}
{% macro type_exact_decimal() -%}
    {{ return(adapter.dispatch('type_exact_decimal', 'salespipe')()) }}
{%- endmacro %}

{% macro default__type_exact_decimal() -%}
    decimal(38, 12)
{%- endmacro %}

{#- Apache Spark (dbt-spark; salespipe run --engine spark). Spark runs with ANSI mode off
    (dbt-spark sets it), so casts of bad text give null, as try_cast does on DuckDB. -#}
{% macro spark__percentile_cont(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}

{#- Spark reads 3600.0 as a DECIMAL and a whole number of seconds divided by it stays a DECIMAL
    with 10 digits after the point; DuckDB's result is a double. -#}
{% macro spark__hours_between(start, end) -%}
    (cast({{ dbt.datediff(start, end, 'second') }} as double) / 3600.0)
{%- endmacro %}

{#- One row per day from `start` to `end` (both dates), as a set-returning select item named
    by the caller; a start after the end gives the start day alone. -#}
{% macro day_series(start, end) -%}
    {{ return(adapter.dispatch('day_series', 'salespipe')(start, end)) }}
{%- endmacro %}

{% macro default__day_series(start, end) -%}
    unnest(generate_series(cast({{ start }} as date),
                           greatest(cast({{ start }} as date), cast({{ end }} as date)),
                           interval 1 day))
{%- endmacro %}

{% macro spark__day_series(start, end) -%}
    explode(sequence(cast({{ start }} as date),
                     greatest(cast({{ start }} as date), cast({{ end }} as date)),
                     interval 1 day))
{%- endmacro %}

{#- dbt.listagg on Spark: dbt-spark ignores the order_by_clause (it warns), so the top reasons
    would come in any order. Spark 4's listagg ... within group (order by ...) keeps the order;
    the limit splits the ordered list on a control character no reason text contains. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set ordered -%}
        listagg({{ measure }}, {{ "'\\u0001'" if limit_num else delimiter_text }})
        within group ({{ order_by_clause if order_by_clause else 'order by ' ~ measure }})
    {%- endset -%}
    {%- if limit_num -%}
        array_join(slice(split({{ ordered }}, '\u0001'), 1, {{ limit_num }}), {{ delimiter_text }})
    {%- else -%}
        {{ ordered }}
    {%- endif -%}
{%- endmacro %}

{#- Statement deleting the rows of `relation` where `condition` holds (for hooks). Spark tables
    without a lakehouse format (parquet) have no DELETE: the other rows are written to a side
    table and copied back (macros/spark_incremental.sql explains why a side table). -#}
{% macro delete_rows(relation, condition) -%}
    {{ return(adapter.dispatch('delete_rows', 'salespipe')(relation, condition)) }}
{%- endmacro %}

{#- A post-hook's delete_rows that first counts what it would delete, and is a no-op query when
    that is nothing (or when `count` is false: nothing to look for): on Spark's parquet tables
    a delete rewrites the whole table, which most nights have no reason to do. -#}
{% macro delete_rows_if_any(relation, condition, count=true) -%}
    {%- set found = 0 -%}
    {%- if execute and count -%}
        {%- set found = run_query("select count(*) from " ~ relation ~ " where " ~ condition)
                        .columns[0].values()[0] -%}
    {%- endif -%}
    {%- if found > 0 -%}
        {{ delete_rows(relation, condition) }}
    {%- else -%}
        select 1 as nothing_to_delete
    {%- endif -%}
{%- endmacro %}

{% macro default__delete_rows(relation, condition) -%}
    delete from {{ relation }} where {{ condition }}
{%- endmacro %}

{% macro spark__delete_rows(relation, condition) -%}
    {%- if spark_supports_merge(config.get('file_format', 'parquet')) -%}
        delete from {{ relation }} where {{ condition }}
    {%- else -%}
        {%- set side = relation.incorporate(path={"identifier": relation.identifier ~ '__dbt_rebuild'}) -%}
        {%- do run_query('drop table if exists ' ~ side) -%}
        {#- kept: where the condition is false or null, as DELETE keeps them -#}
        {%- do run_query('create table ' ~ side ~ ' using parquet as select * from ' ~ relation
                         ~ ' where coalesce(not (' ~ condition ~ '), true)') -%}
        {%- do run_query('insert overwrite table ' ~ relation ~ ' select * from ' ~ side) -%}
        drop table if exists {{ side }}
    {%- endif -%}
{%- endmacro %}

{#- A 64-bit hash of a row's `columns` (expressions), for fingerprints compared between runs of
    the same engine: equal values give equal hashes, a null differs from every value and the
    order of the columns counts. Summed over rows (a multiset of rows): see deal_states.sql. -#}
{% macro row_fingerprint(columns) -%}
    {{ return(adapter.dispatch('row_fingerprint', 'salespipe')(columns)) }}
{%- endmacro %}

{% macro default__row_fingerprint(columns) -%}
    hash({{ columns | join(', ') }})
{%- endmacro %}

{#- Spark's hashes skip null arguments (hash(a, null) = hash(null, a)): nulls become a marker.
    A decimal, so a sum of hashes cannot overflow (a bigint sum would, or fail in ANSI mode). -#}
{% macro spark__row_fingerprint(columns) -%}
    cast(xxhash64(
    {%- for c in columns %}
        coalesce(cast({{ c }} as string), '\u0000'){{ ',' if not loop.last }}
    {%- endfor %}) as decimal(20, 0))
{%- endmacro %}

{#- The latest / earliest non-null value of `expr` in a window's frame (`... over (...)` follows
    the call): IGNORE NULLS is standard SQL, Spark spells it as last/first's second argument. -#}
{% macro last_non_null(expr) -%}
    {{ return(adapter.dispatch('last_non_null', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__last_non_null(expr) -%}
    last_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__last_non_null(expr) -%}
    last({{ expr }}, true)
{%- endmacro %}

{% macro first_non_null(expr) -%}
    {{ return(adapter.dispatch('first_non_null', 'salespipe')(expr)) }}
{%- endmacro %}

{% macro default__first_non_null(expr) -%}
    first_value({{ expr }} ignore nulls)
{%- endmacro %}

{% macro spark__first_non_null(expr) -%}
    first({{ expr }}, true)
{%- endmacro %}
