{#- one row per kab/kota per month: the residents count in force that month and where it came from -#}
with

dukcapil as (
    select district_code, semester_start_month, semester_end_date, residents
    from {{ ref('stg_dukcapil__residents') }}
),

spread as (
    select
        dukcapil.district_code,
        month_series.month::date as month,
        dukcapil.residents,
        'dukcapil' as residents_source,
        dukcapil.semester_end_date as residents_as_of_date
    from dukcapil
    cross join lateral generate_series(
        dukcapil.semester_start_month,
        dukcapil.semester_start_month + interval '5 months',
        interval '1 month'
    ) as month_series (month)
),

final as (
    select * from spread
    where residents_source = '{{ var("denominator_source") }}'
)

select * from final
