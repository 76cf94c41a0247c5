{#- district-months whose coverage is implausible: above 100 %, or changed from the previous month
    by more than the var outlier_coverage_change_pp percentage points -#}
{%- set threshold = var('outlier_coverage_change_pp') %}
with

facts as (
    select district_code, month, coverage_pct
    from {{ ref('fct_coverage_district_month') }}
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

flagged as (
    select
        district_code,
        month,
        'coverage_change' as check_name,
        coverage_pct,
        previous_coverage_pct,
        coverage_pct - previous_coverage_pct as change_pp,
        {{ threshold }}::numeric as threshold
    from with_previous
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
    from with_previous
    where coverage_pct > 100
),

final as (
    select * from flagged
)

select * from final
