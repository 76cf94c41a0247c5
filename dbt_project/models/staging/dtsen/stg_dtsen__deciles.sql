with

source as (
    select * from {{ optional_source('dtsen', 'dtsen_desil', {
        'code': 'text', 'name': 'text', 'decile': 'bigint',
        'individuals': 'bigint', 'pbi_participants': 'bigint'
    }) }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        _region_code as district_code,
        {{ kemendagri_code('code') }} as region_code_source,
        _period as month,
        decile::integer as decile,
        individuals::bigint as individuals,
        pbi_participants::bigint as pbi_participants,
        _source_file as source_file,
        _source_row as source_row,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
