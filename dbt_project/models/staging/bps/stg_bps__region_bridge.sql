with

source as (
    select * from {{ source('bps', 'bps_region_bridge') }}
),

renamed as (
    select
        trim(bps_code) as bps_code,
        trim(regexp_replace(bps_name, '\s+', ' ', 'g')) as bps_name,
        -- the bridge's own Kemendagri column, as resolved by the loader (never bps_code with a dot)
        _region_code as district_code,
        _load_id as load_id
    from source
)

select * from renamed
