with

groups as (
    select * from {{ ref('population_groups') }}
),

final as (
    select
        population_group_code::text as population_group_code,
        family::text as population_group_family,
        label_id::text as label_id,
        label_en::text as label_en,
        sort_order::integer as sort_order
    from groups
)

select * from final
