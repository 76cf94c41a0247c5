{{ config(materialized='view', on_schema_change='fail') }}
{#- one row per kab/kota, month and source that reports its JKN membership: the value the facts
    take (is_picked) and every alternative, with precedence and lineage. A view: it reads the
    current observations as they are, and a new load rebuilds nothing here. -#}
with

by_source as (
    select * from {{ ref('int_memberships_by_source') }}
),

districts as (
    select district_code, district_name, province_code, province_name
    from {{ ref('dim_districts') }}
),

final as (
    select
        by_source.district_code::text as district_code,
        districts.district_name::text as district_name,
        districts.province_code::text as province_code,
        districts.province_name::text as province_name,
        by_source.month::date as month,
        by_source.source_name::text as source_name,
        by_source.publisher::text as publisher,
        by_source.precedence::integer as precedence,
        by_source.source_rank::integer as source_rank,
        by_source.is_picked::boolean as is_picked,
        coalesce(
            by_source.participants_published,
            case when by_source.has_segments then
                {%- for segment in ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
                by_source.{{ segment }}_active + by_source.{{ segment }}_inactive{{ ' +' if not loop.last }}
                {%- endfor %}
            end
        )::bigint as participants,
        coalesce(
            by_source.active_published,
            case when by_source.has_segments then
                {%- for segment in ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
                by_source.{{ segment }}_active{{ ' +' if not loop.last }}
                {%- endfor %}
            end
        )::bigint as active_participants,
        by_source.residents_published::bigint as residents_published,
        by_source.coverage_pct_published::numeric as coverage_pct_published,
        by_source.active_pct_published::numeric as active_pct_published,
        by_source.load_id::bigint as load_id,
        by_source.source_file::text as source_file
    from by_source
    left join districts on by_source.district_code = districts.district_code
)

select * from final
