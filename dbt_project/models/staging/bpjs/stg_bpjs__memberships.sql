with

source as (
    select * from {{ source('bpjs', 'bpjs_membership') }}
),

renamed as (
    select
        _region_code as district_code,
        _period as month,
        {% for segment in var('jkn_segments', ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp']) -%}
        coalesce({{ segment }}_active, 0)::bigint as {{ segment }}_active,
        coalesce({{ segment }}_inactive, 0)::bigint as {{ segment }}_inactive,
        {% endfor -%}
        participants_total::bigint as participants_published,
        residents_published::bigint as residents_published,
        coverage_pct_published::numeric as coverage_pct_published,
        region_name as region_name_source,
        _source_file as source_file,
        _source_row as source_row,
        _load_id as load_id,
        _loaded_at as loaded_at
    from source
)

select * from renamed
