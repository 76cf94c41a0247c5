with

source as (
    select * from {{ optional_source('dukcapil', 'dukcapil_residents_by_age', {
        'code': 'text', 'name': 'text', 'age_band': 'text',
        'male': 'bigint', 'female': 'bigint', 'residents': 'bigint'
    }) }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'raw_rows._period', 'raw_rows._region_code') }}
),

renamed as (
    select
        _region_code as district_code,
        {{ kemendagri_code('code') }} as region_code_source,
        _period as semester_start_month,
        (_period + interval '6 months' - interval '1 day')::date as semester_end_date,
        trim(age_band) as age_band_source,
        {{ age_band_key('age_band') }} as age_band_key,
        male::bigint as residents_male,
        female::bigint as residents_female,
        residents::bigint as residents_published,
        _source_file as source_file,
        _source_row as source_row,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
    where _region_code like '%.%'
)

select * from renamed
