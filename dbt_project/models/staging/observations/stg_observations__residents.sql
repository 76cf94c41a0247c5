{#- the current observations of the residents dataset: of succeeded loads, not superseded
    by a later load of the same source -#}
with

observations as (
    select * from {{ observations_of('residents') }} as observations
),

loads as (
    select load_id from {{ source('cakupan', 'loads') }} where status = 'succeeded'
),

current_observations as (
    select observations.*
    from observations
    inner join loads on observations.load_id = loads.load_id
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
        period,
        grain,
        value,
        source_file,
        sheet as sheet_name,
        source_row,
        loaded_at
    from current_observations
)

select * from renamed
