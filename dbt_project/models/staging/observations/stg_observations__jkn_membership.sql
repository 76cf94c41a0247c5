{#- the current observations of the jkn_membership dataset: not superseded by a later load of
    the same source -#}
with

observations as (
    select * from {{ observations_of('jkn_membership') }} as observations
),

-- a load's observations are written in the transaction that makes it succeed, and deleted with
-- it when it is removed: no other load status to filter (nor a dependency on the load log, which
-- every load changes)
current_observations as (
    select observations.*
    from observations
    where {{ is_current('observations.load_id', 'observations.period', 'observations.region_code') }}
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
