{#- one row per kab/kota per month per residents source (its publisher: dukcapil, bps): the
    residents count in force that month. A semester count applies to its six months (as of the
    semester's last day), a yearly count to its twelve (as of 30 June: BPS projections describe
    mid-year), a monthly one to its month. Where several sources of one publisher give the month
    (a revised release, a province's own file), the precedence seed source_precedence picks, then
    the later load. A count published under an old code says so (reported_under_code). -#}
with

observations as (
    select * from {{ ref('stg_observations__residents') }}
    where region_level = 'district' and measure = 'residents' and group_code = 'all'
        and coalesce(detail, '') = ''
),

bridge as (
    select bps_code, kemendagri_code_source from {{ ref('stg_bps__region_bridge') }}
),

precedence as (
    select source_name, precedence
    from {{ ref('source_precedence') }}
    where dataset = 'residents'
),

spread as (
    select
        observations.region_code as district_code,
        month_series.month::date as month,
        observations.publisher as residents_source,
        observations.value as residents,
        case observations.grain
            when 'semester' then (observations.period + interval '6 months' - interval '1 day')::date
            when 'year' then make_date(extract(year from observations.period)::integer, 6, 30)
            else (observations.period + interval '1 month' - interval '1 day')::date
        end as residents_as_of_date,
        case observations.region_system
            when 'kemendagri' then {{ kemendagri_code('observations.region_code_source') }}
            when 'bps' then bridge.kemendagri_code_source
        end as code_as_published,
        observations.source_name,
        coalesce(precedence.precedence, 1000) as precedence,
        observations.load_id
    from observations
    left join bridge
        on observations.region_system = 'bps'
        and trim(observations.region_code_source) = bridge.bps_code
    left join precedence on observations.source_name = precedence.source_name
    cross join lateral generate_series(
        observations.period,
        observations.period + case observations.grain
            when 'semester' then interval '5 months'
            when 'year' then interval '11 months'
            else interval '0 months'
        end,
        interval '1 month'
    ) as month_series (month)
),

ranked as (
    select
        spread.*,
        row_number() over (
            partition by spread.district_code, spread.month, spread.residents_source
            order by spread.precedence, spread.load_id desc
        ) as source_rank
    from spread
),

final as (
    select
        district_code,
        month,
        residents_source,
        residents::bigint as residents,
        residents_as_of_date,
        case when code_as_published <> district_code then code_as_published end as reported_under_code,
        source_name,
        load_id
    from ranked
    where source_rank = 1
)

select * from final
