{#- residents per kab/kota, period and age band, men and women: the observations of the
    residents_by_age dataset (any contract feeding it; where several give the same kab/kota and
    period, the one the precedence seed ranks first); a semester count applies to its six months -#}
with

observations as (
    select * from {{ ranked_observations('residents_by_age') }} as observations
    where source_rank = 1
),

pivoted as (
    select
        region_code as district_code,
        {{ kemendagri_code('max(region_code_source)') }} as region_code_source,
        period as semester_start_month,
        (period + case max(grain)
            when 'year' then interval '12 months'
            when 'month' then interval '1 month'
            else interval '6 months'
        end - interval '1 day')::date as semester_end_date,
        detail as age_band_source,
        {{ age_band_key('detail') }} as age_band_key,
        max(value) filter (where group_code = 'sex_male')::bigint as residents_male,
        max(value) filter (where group_code = 'sex_female')::bigint as residents_female,
        max(value) filter (where group_code = 'all')::bigint as residents_published,
        {{ observation_lineage() }}
    from observations
    group by region_code, period, detail
)

select * from pivoted
