{#- one row per kab/kota per month per age band: Dukcapil residents by sex, the semester's count
    applied to its six months -#}
with

residents as (
    select * from {{ ref('stg_dukcapil__residents_by_age') }}
),

aliases as (
    select age_band_key, population_group_code from {{ ref('age_band_aliases') }}
),

spread as (
    select
        residents.district_code,
        month_series.month::date as month,
        aliases.population_group_code as age_group_code,
        residents.residents_male,
        residents.residents_female,
        residents.semester_end_date as residents_as_of_date,
        case
            when residents.region_code_source <> residents.district_code
                then residents.region_code_source
        end as reported_under_code,
        residents.load_id
    from residents
    inner join aliases on residents.age_band_key = aliases.age_band_key
    cross join lateral generate_series(
        residents.semester_start_month,
        residents.semester_start_month + interval '5 months',
        interval '1 month'
    ) as month_series (month)
),

final as (
    select * from spread
)

select * from final
