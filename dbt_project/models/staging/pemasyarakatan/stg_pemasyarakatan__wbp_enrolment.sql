with

source as (
    select * from {{ optional_source('pemasyarakatan', 'pemasyarakatan_wbp_jkn', {
        'regional_office': 'text', 'facility_name': 'text', 'domicile_name': 'text',
        'inmates': 'bigint', 'proposed': 'bigint', 'enrolled': 'bigint'
    }) }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        _period as month,
        trim(regexp_replace(facility_name, '\s+', ' ', 'g')) as facility_name,
        case
            when facility_name ~* '^\s*lpka' then 'lpka'
            when facility_name ~* '^\s*lpp' then 'lpp'
            when facility_name ~* '^\s*(lapas|lembaga pemasyarakatan)' then 'lapas'
            when facility_name ~* '^\s*(rutan|rumah tahanan)' then 'rutan'
            else 'other'
        end as facility_type,
        trim(regional_office) as regional_office,
        _region_code as district_code,
        trim(regexp_replace(domicile_name, '\s+', ' ', 'g')) as domicile_name_source,
        inmates::bigint as inmates,
        proposed::bigint as proposed,
        enrolled::bigint as enrolled,
        _source_file as source_file,
        _source_row as source_row,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
