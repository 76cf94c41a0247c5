with

source as (
    select * from {{ optional_source('bps', 'bps_population', {
        'bps_code': 'text', 'name': 'text', 'year': 'bigint', 'population': 'bigint'
    }) }} as raw_rows
    -- rows a later load of the same source superseded stay in raw, out of the way
    where {{ is_current('raw_rows._load_id', 'make_date(raw_rows.year::integer, 1, 1)', 'raw_rows._region_code') }}
),

loads as (
    select load_id, source as source_name from {{ source('cakupan', 'loads') }}
),

renamed as (
    select
        -- several contracts may land BPS's layout here (the CSV release, the WebAPI)
        loads.source_name,
        trim(bps_code) as bps_code,
        trim(regexp_replace(name, '\s+', ' ', 'g')) as bps_name,
        year::integer as year,
        population::bigint as population,
        -- how the loader resolved the BPS code (through its reference copy of the bridge);
        -- int_bps_population_districts resolves through the loaded bridge and must agree
        _region_code as district_code_loaded,
        _source_file as source_file,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
    left join loads on source._load_id = loads.load_id
)

select * from renamed
