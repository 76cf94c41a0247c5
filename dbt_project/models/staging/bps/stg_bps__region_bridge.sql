with

source as (
    select * from {{ source('bps', 'bps_region_bridge') }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        trim(bps_code) as bps_code,
        trim(regexp_replace(bps_name, '\s+', ' ', 'g')) as bps_name,
        -- the bridge's own Kemendagri column, as resolved by the loader (never bps_code with a dot)
        _region_code as district_code,
        -- the bridge's Kemendagri code as it lists it (2020 codes: 91.01 is Merauke, now 93.01)
        {{ kemendagri_code('kemendagri_code') }} as kemendagri_code_source,
        _load_id as load_id
    from source
)

select * from renamed
