{#- participants per kab/kota, month and age band, men and women: the observations of the
    participants_by_age dataset (any contract feeding it; where several give the same kab/kota
    and month, the one the precedence seed ranks first), the age band as the source wrote it -#}
with

observations as (
    select * from {{ ranked_observations('participants_by_age') }} as observations
    where source_rank = 1
),

pivoted as (
    select
        region_code as district_code,
        {{ kemendagri_code('max(region_code_source)') }} as region_code_source,
        period as month,
        detail as age_band_source,
        {{ age_band_key('detail') }} as age_band_key,
        max(value) filter (where group_code = 'sex_male')::bigint as participants_male,
        max(value) filter (where group_code = 'sex_female')::bigint as participants_female,
        max(value) filter (where group_code = 'all')::bigint as participants_published,
        {{ observation_lineage() }}
    from observations
    group by region_code, period, detail
)

select * from pivoted
