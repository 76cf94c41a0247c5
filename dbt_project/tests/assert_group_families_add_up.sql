{{ config(severity='warn') }}
-- Participants by sex and by age band come from one source: both families add up to the same
-- total for every kab/kota and month (a warning: a source publishing an incomplete breakdown
-- should be looked at, not stop the build).
with

totals as (
    select
        district_code,
        month,
        sum(participants) filter (where population_group_family = 'sex') as by_sex,
        sum(participants) filter (where population_group_family = 'age_band') as by_age_band
    from {{ ref('fct_coverage_group_month') }}
    where population_group_family in ('sex', 'age_band')
        -- the months this build rebuilt (every month outside a build of the fact)
        and {{ in_months('month', months_built(ref('fct_coverage_group_month'))) }}
    group by district_code, month
)

select *
from totals
where by_sex is distinct from by_age_band
