{#- one row per kab/kota code any loaded decree lists (the current decree and the earlier ones),
    with the current code it corresponds to -#}
with

current_regions as (
    select region_code, region_name_official, decree_year
    from {{ ref('stg_kemendagri__regions') }}
    where region_level = 'district'
),

history as (
    select region_code_listed, district_code, region_name_listed, decree_year
    from {{ ref('stg_kemendagri__region_history') }}
),

listings as (
    select
        region_code as region_code_listed,
        region_code as district_code,
        region_name_official as region_name_listed,
        decree_year
    from current_regions
    union all
    select region_code_listed, district_code, region_name_listed, decree_year
    from history
),

codes as (
    select
        region_code_listed as region_code,
        district_code,
        min(decree_year) as first_decree_year,
        max(decree_year) as last_decree_year,
        count(*) as decrees_listing,
        (array_agg(region_name_listed order by decree_year desc nulls last))[1] as region_name_listed
    from listings
    group by region_code_listed, district_code
),

final as (
    select
        region_code,
        region_name_listed,
        district_code,
        region_code = district_code as is_current,
        case when region_code <> district_code then district_code end as successor_code,
        first_decree_year,
        last_decree_year,
        decrees_listing
    from codes
)

select * from final
