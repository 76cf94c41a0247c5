with

source as (
    select * from {{ source('cakupan', 'rejects') }}
    -- the rejects of a load a later one superseded as a whole are kept in raw, not shown
    where _load_id not in (
        select load_id from {{ source('cakupan', 'loads') }} where superseded_by is not null
    )
),

renamed as (
    select
        _load_id as load_id,
        _loaded_at as loaded_at,
        source as source_name,
        source_file as source_location,
        sheet as sheet_name,
        source_row,
        column_name,
        reason,
        source_values::text as source_values
    from source
)

select * from renamed
