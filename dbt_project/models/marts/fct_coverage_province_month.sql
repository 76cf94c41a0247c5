{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        on_schema_change='fail',
        pre_hook="{{ delete_months_built() }}"
    )
}}
{#- One row per province per month, summed from the district facts; percentages recomputed
    from the sums, never averaged.
    Incremental by month: a month is rebuilt when the district facts of that month were (their
    inputs fingerprint, which covers the districts and provinces too, changed), so a new month
    does not re-sum the history; `--full-refresh` gives the same rows. -#}
{%- set fingerprints_sql -%}
    select month, md5(string_agg(distinct inputs_fingerprint, ' ' order by inputs_fingerprint)) as inputs_fingerprint
    from {{ ref('fct_coverage_district_month') }}
    group by month
{%- endset %}
{%- set months = months_to_rebuild(fingerprints_sql) %}
{%- do remember_months_built(months) %}
with

district_facts as (
    select * from {{ ref('fct_coverage_district_month') }}
    where {{ in_months('month', months) }}
),

month_fingerprints as (
    select month, inputs_fingerprint
    from ({{ fingerprints_sql }}) as fingerprints
    where {{ in_months('month', months) }}
),

provinces as (
    select distinct province_code, province_name from {{ ref('dim_districts') }}
),

summed as (
    select
        province_code,
        month,
        count(*) as districts,
        count(*) filter (where has_membership_data) as districts_with_data,
        count(*) filter (where meets_uhc) as districts_meeting_uhc,
        count(*) filter (where uhc_award_tier is not null) as districts_with_uhc_award_tier,
        sum(residents) as residents,
        sum(participants) as participants,
        sum(active_participants) as active_participants,
        sum(inactive_participants) as inactive_participants,
        sum(pemda_registered_participants) as pemda_registered_participants,
        sum(people_to_uhc) as people_to_uhc_in_districts,
        min(residents_source) as residents_source,
        min(uhc_rule_code) as uhc_rule_code,
        min(min_coverage_pct) as min_coverage_pct,
        min(min_active_pct) as min_active_pct
    from district_facts
    group by province_code, month
),

final as (
    -- the columns' types are the contract BI reads (_marts__models.yml): counts bigint,
    -- percentages numeric, codes text
    select
        summed.province_code::text as province_code,
        provinces.province_name::text as province_name,
        summed.month::date as month,
        summed.districts::bigint as districts,
        summed.districts_with_data::bigint as districts_with_data,
        summed.districts_meeting_uhc::bigint as districts_meeting_uhc,
        summed.districts_with_uhc_award_tier::bigint as districts_with_uhc_award_tier,
        summed.residents::bigint as residents,
        summed.residents_source::text as residents_source,
        summed.participants::bigint as participants,
        summed.active_participants::bigint as active_participants,
        summed.inactive_participants::bigint as inactive_participants,
        summed.pemda_registered_participants::bigint as pemda_registered_participants,
        {{ pct('summed.participants', 'summed.residents') }}::numeric as coverage_pct,
        {{ pct('summed.active_participants', 'summed.participants') }}::numeric as active_pct,
        {{ pct('summed.active_participants', 'summed.residents') }}::numeric as active_coverage_pct,
        summed.uhc_rule_code::text as uhc_rule_code,
        summed.min_coverage_pct::numeric as min_coverage_pct,
        summed.min_active_pct::numeric as min_active_pct,
        greatest(0, ceil(summed.residents * summed.min_coverage_pct / 100.0) - summed.participants)::bigint
            as people_to_uhc,
        summed.people_to_uhc_in_districts::bigint as people_to_uhc_in_districts,
        month_fingerprints.inputs_fingerprint::text as inputs_fingerprint
    from summed
    inner join month_fingerprints on summed.month = month_fingerprints.month
    left join provinces on summed.province_code = provinces.province_code
)

select * from final
