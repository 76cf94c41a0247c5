{#- district-months whose coverage is implausible: above 100 %, or changed from the previous month
    by more than the var outlier_coverage_change_pp percentage points -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        on_schema_change='fail',
        pre_hook="{{ delete_months_built() }}",
        post_hook="{{ save_months_built(dq_outliers_fingerprints()) }}"
    )
}}
{#-
    Incremental by month like dq_published_mismatches (macros/incremental.sql): a month is checked
    again when the district facts of that month or of the month before changed, or the threshold;
    the months' fingerprints are kept beside the table, since most months have no outlier.
-#}
{%- set threshold = var('outlier_coverage_change_pp') %}
{%- set months = months_to_rebuild(dq_outliers_fingerprints(), sparse=true) %}
{%- do remember_months_built(months) %}
with

facts as (
    select district_code, month, coverage_pct
    from {{ ref('fct_coverage_district_month') }}
    -- the months checked and the months before them (a change is measured from the month before)
    where {{ in_months('month', months) }}
        or {{ in_months("(month + interval '1 month')::date", months) }}
),

with_previous as (
    select
        district_code,
        month,
        coverage_pct,
        lag(month) over (partition by district_code order by month) as previous_month,
        lag(coverage_pct) over (partition by district_code order by month) as previous_coverage_pct
    from facts
),

months_checked as (
    select * from with_previous
    where {{ in_months('month', months) }}
),

flagged as (
    select
        district_code,
        month,
        'coverage_change' as check_name,
        coverage_pct,
        previous_coverage_pct,
        coverage_pct - previous_coverage_pct as change_pp,
        {{ threshold }}::numeric as threshold
    from months_checked
    where previous_month = (month - interval '1 month')::date
        and abs(coverage_pct - previous_coverage_pct) > {{ threshold }}

    union all

    select
        district_code,
        month,
        'coverage_above_100',
        coverage_pct,
        previous_coverage_pct,
        coverage_pct - previous_coverage_pct,
        100
    from months_checked
    where coverage_pct > 100
),

final as (
    select * from flagged
)

select * from final
