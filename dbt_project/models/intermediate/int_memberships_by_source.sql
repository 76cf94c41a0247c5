{#- one row per kab/kota, month and source that says something of its JKN membership: the
    source's measures side by side, ranked by the precedence seed (lower first; a source not in
    the seed after every listed one), then the later load. The first is the one the facts take;
    the others stay here as alternatives. -#}
{%- set segments = ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
with

observations as (
    select * from {{ ref('stg_observations__jkn_membership') }}
    where region_level = 'district'
),

precedence as (
    select source_name, precedence
    from {{ ref('source_precedence') }}
    where dataset = 'jkn_membership'
),

by_source as (
    select
        region_code as district_code,
        month,
        source_name,
        max(publisher) as publisher,
        max(load_id) as load_id,
        {% for segment in segments -%}
        max(value) filter (where measure = 'participants_active' and group_code = '{{ segment }}')
            as {{ segment }}_active,
        max(value) filter (where measure = 'participants_inactive' and group_code = '{{ segment }}')
            as {{ segment }}_inactive,
        {% endfor -%}
        count(*) filter (where group_code <> 'all') > 0 as has_segments,
        max(value) filter (where measure = 'participants' and group_code = 'all')
            as participants_published,
        max(value) filter (where measure = 'participants_active' and group_code = 'all')
            as active_published,
        max(value) filter (where measure = 'participants_inactive' and group_code = 'all')
            as inactive_published,
        max(value) filter (where measure = 'residents_published') as residents_published,
        max(value) filter (where measure = 'coverage_pct_published') as coverage_pct_published,
        max(value) filter (where measure = 'active_pct_published') as active_pct_published,
        min(source_file) as source_file,
        min(source_row) as source_row,
        max(loaded_at) as loaded_at
    from observations
    group by region_code, month, source_name
),

ranked as (
    select
        by_source.*,
        coalesce(precedence.precedence, 1000) as precedence,
        row_number() over (
            partition by by_source.district_code, by_source.month
            order by coalesce(precedence.precedence, 1000), by_source.load_id desc
        ) as source_rank
    from by_source
    left join precedence on by_source.source_name = precedence.source_name
),

final as (
    select
        district_code,
        month,
        source_name,
        publisher,
        precedence,
        source_rank,
        source_rank = 1 as is_picked,
        {% for segment in segments -%}
        case when has_segments then coalesce({{ segment }}_active, 0) end::bigint as {{ segment }}_active,
        case when has_segments then coalesce({{ segment }}_inactive, 0) end::bigint as {{ segment }}_inactive,
        {% endfor -%}
        has_segments,
        participants_published::bigint as participants_published,
        active_published::bigint as active_published,
        inactive_published::bigint as inactive_published,
        residents_published::bigint as residents_published,
        coverage_pct_published::numeric as coverage_pct_published,
        active_pct_published::numeric as active_pct_published,
        source_file,
        source_row,
        load_id,
        loaded_at
    from ranked
)

select * from final
