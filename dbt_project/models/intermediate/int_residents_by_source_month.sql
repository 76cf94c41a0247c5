{#- one row per kab/kota per month per denominator source: the residents count in force that month
    (Dukcapil: a semester count applies to its six months; BPS: a mid-year count to its year) -#}
with

dukcapil as (
    select
        district_code,
        region_code_source,
        semester_start_month,
        semester_end_date,
        residents,
        load_id
    from {{ ref('stg_dukcapil__residents') }}
),

bps as (
    select
        district_code,
        reported_under_code,
        year,
        population,
        load_id
    from {{ ref('int_bps_population_districts') }}
),

dukcapil_months as (
    select
        dukcapil.district_code,
        month_series.month::date as month,
        'dukcapil' as residents_source,
        dukcapil.residents,
        dukcapil.semester_end_date as residents_as_of_date,
        case
            when dukcapil.region_code_source <> dukcapil.district_code
                then dukcapil.region_code_source
        end as reported_under_code,
        dukcapil.load_id
    from dukcapil
    cross join lateral generate_series(
        dukcapil.semester_start_month,
        dukcapil.semester_start_month + interval '5 months',
        interval '1 month'
    ) as month_series (month)
),

bps_months as (
    select
        bps.district_code,
        month_series.month::date as month,
        'bps' as residents_source,
        bps.population as residents,
        -- BPS projections describe the population at mid-year
        make_date(bps.year, 6, 30) as residents_as_of_date,
        bps.reported_under_code,
        bps.load_id
    from bps
    cross join lateral generate_series(
        make_date(bps.year, 1, 1),
        make_date(bps.year, 12, 1),
        interval '1 month'
    ) as month_series (month)
),

final as (
    select * from dukcapil_months
    union all
    select * from bps_months
)

select * from final
