{#- the current observations of the jkn_membership dataset: not superseded by a later load of
    the same source -#}
with

current_observations as (
    select * from {{ current_observations('jkn_membership') }} as observations
),

renamed as (
    select
        load_id,
        source as source_name,
        publisher,
        measure,
        group_code,
        detail,
        region_level,
        region_code,
        region_system,
        region_code_source,
        period as month,
        value,
        source_file,
        sheet as sheet_name,
        source_row,
        loaded_at
    from current_observations
)

select * from renamed
