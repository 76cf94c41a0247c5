with

source as (
    select * from {{ optional_source('kemendagri', 'kemendagri_region_history', {
        'code': 'text', 'name': 'text'
    }) }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        {{ kemendagri_code('code') }} as region_code_listed,
        -- the current code the loader resolved the listed code to (old codes through the
        -- reference history: 92.01 of 2018 is 96.01)
        _region_code as district_code,
        trim(regexp_replace(name, '\s+', ' ', 'g')) as region_name_listed,
        {{ year_in_file_name('_source_file') }} as decree_year,
        _source_file as source_file,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
