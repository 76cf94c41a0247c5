{#- DTSEN individuals per kab/kota, month and welfare decile, with those enrolled as PBI
    participants: the observations of the dtsen dataset (any contract feeding it; where several
    give the same kab/kota and month, the one the precedence seed ranks first) -#}
with

observations as (
    select * from {{ ranked_observations('dtsen') }} as observations
    where source_rank = 1
),

pivoted as (
    select
        region_code as district_code,
        {{ kemendagri_code('max(region_code_source)') }} as region_code_source,
        period as month,
        detail::integer as decile,
        max(value) filter (where measure = 'dtsen_individuals')::bigint as individuals,
        max(value) filter (where measure = 'dtsen_pbi_participants')::bigint as pbi_participants,
        {{ observation_lineage() }}
    from observations
    group by region_code, period, detail
)

select * from pivoted
