with

source as (
    select * from {{ source('kemendagri', 'kemendagri_regions') }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        _region_code as region_code,
        trim(regexp_replace(name, '\s+', ' ', 'g')) as region_name_official,
        initcap(trim(regexp_replace(
            regexp_replace(name, '^\s*(kabupaten|kab\.?|kota administrasi|kota adm\.?|kota)\s+', '', 'i'),
            '\s+', ' ', 'g'
        ))) as region_name,
        case when position('.' in _region_code) = 0 then 'province' else 'district' end as region_level,
        case
            when position('.' in _region_code) = 0 then null
            when name ~* '^\s*kota' then 'kota'
            when name ~* '^\s*kab' then 'kabupaten'
            when _region_code ~ '\.7[0-9]$' then 'kota'
            else 'kabupaten'
        end as district_type,
        split_part(_region_code, '.', 1) as province_code,
        {{ year_in_file_name('_source_file') }} as decree_year,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
