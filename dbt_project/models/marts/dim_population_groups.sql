with

groups as (
    select * from {{ ref('population_groups') }}
),

labels as (
    select * from {{ ref('segment_labels') }}
),

current_labels as (
    select distinct on (population_group_code)
        population_group_code,
        label_id as label_id_published
    from labels
    order by population_group_code, valid_from desc
),

final as (
    select
        groups.population_group_code::text as population_group_code,
        groups.family::text as population_group_family,
        groups.label_id::text as label_id,
        groups.label_en::text as label_en,
        groups.sort_order::integer as sort_order,
        current_labels.label_id_published::text as label_id_published,
        groups.participants_definition::text as participants_definition,
        groups.residents_definition::text as residents_definition
    from groups
    left join current_labels on groups.population_group_code = current_labels.population_group_code
)

select * from final
