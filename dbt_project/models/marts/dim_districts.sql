with

regions as (
    select region_code, region_name, region_level, district_type, province_code, decree_year
    from {{ ref('stg_kemendagri__regions') }}
),

bridge as (
    select bps_code, district_code from {{ ref('stg_bps__region_bridge') }}
),

codes as (
    select * from {{ ref('int_district_codes') }}
),

provinces as (
    select region_code as province_code, region_name as province_name
    from regions
    where region_level = 'province'
),

code_history as (
    select
        district_code,
        min(first_decree_year) filter (where is_current) as first_decree_year,
        string_agg(region_code, ',' order by region_code) filter (where not is_current)
            as previous_codes
    from codes
    group by district_code
),

districts as (
    select
        regions.region_code as district_code,
        bridge.bps_code,
        regions.region_name as district_name,
        regions.district_type,
        regions.province_code,
        provinces.province_name,
        make_date(coalesce(code_history.first_decree_year, regions.decree_year), 1, 1)
            as valid_from,
        code_history.previous_codes
    from regions
    left join provinces on regions.province_code = provinces.province_code
    left join bridge on regions.region_code = bridge.district_code
    left join code_history on regions.region_code = code_history.district_code
    where regions.region_level = 'district'
),

final as (
    select * from districts
)

select * from final
