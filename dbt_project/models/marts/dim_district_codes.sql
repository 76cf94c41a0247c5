with

codes as (
    select * from {{ ref('int_district_codes') }}
),

final as (
    select
        region_code,
        region_name_listed,
        district_code,
        is_current,
        successor_code,
        first_decree_year,
        last_decree_year,
        decrees_listing
    from codes
)

select * from final
