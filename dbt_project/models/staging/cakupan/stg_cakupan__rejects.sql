with

source as (
    select * from {{ source('cakupan', 'rejects') }}
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
