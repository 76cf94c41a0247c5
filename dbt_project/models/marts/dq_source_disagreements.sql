{{ config(materialized='view', schema='dq', on_schema_change='fail') }}
{#- where two sources give the same measure of the same kab/kota and month and their values
    differ by more than the var source_disagreement_tolerance_pct (percent of the value the
    facts take): the source the facts take against each alternative, both loads and values. -#}
{%- set tolerance = var('source_disagreement_tolerance_pct') %}
with

observations as (
    select * from {{ ref('stg_observations__jkn_membership') }}
    where region_level = 'district'
),

ranks as (
    select district_code, month, source_name, source_rank
    from {{ ref('int_memberships_by_source') }}
),

ranked as (
    select observations.*, ranks.source_rank
    from observations
    inner join ranks
        on observations.region_code = ranks.district_code
        and observations.month = ranks.month
        and observations.source_name = ranks.source_name
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
