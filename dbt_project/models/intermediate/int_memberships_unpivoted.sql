{#- one row per kab/kota per month per JKN segment. One lateral VALUES list rather than a union of
    six selects: the staging view is then read once, and a filter on month (an incremental fact's
    months to rebuild) reaches the raw table -#}
{%- set segments = ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
with

memberships as (
    select * from {{ ref('int_memberships_picked') }}
),

unpivoted as (
    select
        memberships.district_code,
        memberships.month,
        segments.population_group_code,
        segments.active_participants + segments.inactive_participants as participants,
        segments.active_participants,
        memberships.load_id
    from memberships
    cross join lateral (
        values
            {% for segment in segments -%}
            ('{{ segment }}', memberships.{{ segment }}_active, memberships.{{ segment }}_inactive)
            {{- "," if not loop.last }}
            {% endfor %}
    ) as segments (population_group_code, active_participants, inactive_participants)
    -- a source without segments (a branch table's totals) has no segment rows
    where memberships.has_segments
),

final as (
    select * from unpivoted
)

select * from final
