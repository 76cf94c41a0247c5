with

source as (
    select * from {{ optional_source('bpjs', 'bpjs_participants_by_age', {
        'month': 'date', 'code': 'text', 'name': 'text', 'age_band': 'text',
        'male': 'bigint', 'female': 'bigint', 'participants_total': 'bigint'
    }) }} as raw_rows
),

renamed as (
    select
        _region_code as district_code,
        {{ kemendagri_code('code') }} as region_code_source,
        _period as month,
        trim(age_band) as age_band_source,
        {{ age_band_key('age_band') }} as age_band_key,
        male::bigint as participants_male,
        female::bigint as participants_female,
        participants_total::bigint as participants_published,
        _source_file as source_file,
        _source_row as source_row,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
