with

labels as (
    select * from {{ ref('segment_labels') }}
),

final as (
    select
        population_group_code::text as population_group_code,
        label_id::text as label_id,
        valid_from::date as valid_from_date,
        valid_to::date as valid_to_date
    from labels
)

select * from final
