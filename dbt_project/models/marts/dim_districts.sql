with

regions as (
    select region_code, region_name, region_level, district_type, province_code
    from {{ ref('stg_kemendagri__regions') }}
),

bridge as (
    select bps_code, district_code from {{ ref('stg_bps__region_bridge') }}
),

provinces as (
    select region_code as province_code, region_name as province_name
    from regions
    where region_level = 'province'
),

districts as (
    select
        regions.region_code as district_code,
        bridge.bps_code,
        regions.region_name as district_name,
        regions.district_type,
        regions.province_code,
        provinces.province_name
    from regions
    left join provinces on regions.province_code = provinces.province_code
    left join bridge on regions.region_code = bridge.district_code
    where regions.region_level = 'district'
),

final as (
    select * from districts
)

select * from final
