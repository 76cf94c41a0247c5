with

source as (
    select * from {{ source('dukcapil', 'dukcapil_residents') }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        _region_code as district_code,
        {{ kemendagri_code('code') }} as region_code_source,
        _period as semester_start_month,
        (_period + interval '6 months' - interval '1 day')::date as semester_end_date,
        male::bigint as residents_male,
        female::bigint as residents_female,
        residents::bigint as residents,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
    where _region_code like '%.%'
)

select * from renamed
