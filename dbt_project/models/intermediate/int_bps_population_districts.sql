{#- BPS population per kab/kota and year, its BPS code resolved through the loaded BPS-Kemendagri
    bridge (BPS 6403 is Kemendagri 64.02: never a dot inserted into a BPS code) -#}
with

population as (
    select * from {{ ref('stg_bps__population') }}
),

bridge as (
    select bps_code, district_code, kemendagri_code_source
    from {{ ref('stg_bps__region_bridge') }}
),

resolved as (
    select
        bridge.district_code,
        population.bps_code,
        population.year,
        population.population,
        -- the bridge lists 2020 Kemendagri codes: the code BPS's figure was published under
        case
            when bridge.kemendagri_code_source <> bridge.district_code
                then bridge.kemendagri_code_source
        end as reported_under_code,
        population.district_code_loaded,
        population.load_id
    from population
    inner join bridge on population.bps_code = bridge.bps_code
),

final as (
    select * from resolved
)

select * from final
