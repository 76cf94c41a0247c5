{{ config(materialized='view', schema='dq', on_schema_change='fail') }}
{#- where two sources give the same measure of the same kab/kota and month and their values
    differ by more than the var source_disagreement_tolerance_pct (percent of the value the
    facts take): the source the facts take against each alternative, both loads and values.
    Only the kab/kota-months more than one source reports are ranked and paired (the sources
    ranked as int_memberships_by_source ranks them), so the view reads the observations once.
    `contested` is materialized: the planner underestimates the current observations (an anti
    join on the superseded loads) and, inlined, re-ran its aggregate for every observation. -#}
{%- set tolerance = var('source_disagreement_tolerance_pct') %}
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

contested as materialized (
    select region_code, month
    from observations
    group by region_code, month
    having count(distinct source_name) > 1
),

contested_observations as (
    select observations.*
    from observations
    inner join contested
        on observations.region_code = contested.region_code
        and observations.month = contested.month
),

sources as (
    select region_code, month, source_name, max(load_id) as load_id
    from contested_observations
    group by region_code, month, source_name
),

ranked_sources as (
    select
        sources.region_code,
        sources.month,
        sources.source_name,
        row_number() over (
            partition by sources.region_code, sources.month
            order by coalesce(precedence.precedence, 1000), sources.load_id desc
        ) as source_rank
    from sources
    left join precedence on sources.source_name = precedence.source_name
),

ranked as (
    select contested_observations.*, ranked_sources.source_rank
    from contested_observations
    inner join ranked_sources
        on contested_observations.region_code = ranked_sources.region_code
        and contested_observations.month = ranked_sources.month
        and contested_observations.source_name = ranked_sources.source_name
),

pairs as (
    select
        picked.region_code as district_code,
        picked.month,
        picked.measure,
        picked.group_code,
        picked.source_name,
        picked.load_id,
        picked.value,
        other.source_name as other_source_name,
        other.load_id as other_load_id,
        other.value as other_value
    from ranked as picked
    inner join ranked as other
        on picked.region_code = other.region_code
        and picked.month = other.month
        and picked.measure = other.measure
        and picked.group_code = other.group_code
        and picked.detail = other.detail
        and other.source_rank > 1
    where picked.source_rank = 1
),

final as (
    select
        district_code::text as district_code,
        month::date as month,
        measure::text as measure,
        group_code::text as group_code,
        source_name::text as source_name,
        load_id::bigint as load_id,
        value::numeric as value,
        other_source_name::text as other_source_name,
        other_load_id::bigint as other_load_id,
        other_value::numeric as other_value,
        (other_value - value)::numeric as difference,
        round(100.0 * (other_value - value) / nullif(abs(value), 0), 3)::numeric as difference_pct,
        {{ tolerance }}::numeric as tolerance_pct
    from pairs
    where abs(other_value - value) > abs(value) * {{ tolerance }} / 100.0
)

select * from final
