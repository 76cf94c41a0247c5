-- The province and national facts are the sums of the district facts: every count agrees for
-- every province (or the nation) and month, and no district-month is left out. In a build that
-- rebuilt some months of these tables (incremental), the months rebuilt; else every month.
{%- set months = months_built_in_any([
    ref('fct_coverage_district_month'),
    ref('fct_coverage_province_month'),
    ref('fct_coverage_national_month'),
]) %}
with

district_facts as (
    select * from {{ ref('fct_coverage_district_month') }}
    where {{ in_months('month', months) }}
),

province_facts as (
    select * from {{ ref('fct_coverage_province_month') }}
    where {{ in_months('month', months) }}
),

national_facts as (
    select * from {{ ref('fct_coverage_national_month') }}
    where {{ in_months('month', months) }}
),

by_province as (
    select
        province_code,
        month,
        count(*) as districts,
        sum(residents) as residents,
        sum(participants) as participants,
        sum(active_participants) as active_participants,
        count(*) filter (where meets_uhc) as districts_meeting_uhc
    from district_facts
    group by province_code, month
),

national as (
    select
        month,
        count(*) as districts,
        sum(residents) as residents,
        sum(participants) as participants,
        sum(active_participants) as active_participants,
        count(*) filter (where meets_uhc) as districts_meeting_uhc
    from district_facts
    group by month
),

province_mismatches as (
    select 'province' as level, by_province.province_code as area, by_province.month
    from by_province
    full outer join province_facts as rollup
        on by_province.province_code = rollup.province_code
        and by_province.month = rollup.month
    where by_province.month is null
        or rollup.month is null
        or by_province.districts is distinct from rollup.districts
        or by_province.residents is distinct from rollup.residents
        or by_province.participants is distinct from rollup.participants
        or by_province.active_participants is distinct from rollup.active_participants
        or by_province.districts_meeting_uhc is distinct from rollup.districts_meeting_uhc
        or rollup.coverage_pct is distinct from
            100.0 * rollup.participants::numeric / nullif(rollup.residents, 0)
),

national_mismatches as (
    select 'national' as level, 'ID' as area, national.month
    from national
    full outer join national_facts as rollup
        on national.month = rollup.month
    where national.month is null
        or rollup.month is null
        or national.districts is distinct from rollup.districts
        or national.residents is distinct from rollup.residents
        or national.participants is distinct from rollup.participants
        or national.active_participants is distinct from rollup.active_participants
        or national.districts_meeting_uhc is distinct from rollup.districts_meeting_uhc
),

-- and the provinces add up to the nation
provinces_to_nation as (
    select 'provinces_to_national' as level, 'ID' as area, provinces.month
    from (
        select month, sum(residents) as residents, sum(participants) as participants
        from province_facts
        group by month
    ) as provinces
    inner join national_facts as rollup
        on provinces.month = rollup.month
    where provinces.residents is distinct from rollup.residents
        or provinces.participants is distinct from rollup.participants
)

select * from province_mismatches
union all
select * from national_mismatches
union all
select * from provinces_to_nation
