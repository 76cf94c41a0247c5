{#- one row per kab/kota per month per JKN segment -#}
{%- set segments = ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
with

memberships as (
    select * from {{ ref('stg_bpjs__memberships') }}
),

unpivoted as (
    {% for segment in segments -%}
    select
        district_code,
        month,
        '{{ segment }}' as population_group_code,
        {{ segment }}_active + {{ segment }}_inactive as participants,
        {{ segment }}_active as active_participants,
        load_id
    from memberships
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select * from unpivoted
)

select * from final
