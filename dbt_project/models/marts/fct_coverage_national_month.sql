{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        on_schema_change='fail',
        pre_hook="{{ delete_months_built() }}"
    )
}}
{#- One row per month for Indonesia, summed from the district facts; percentages recomputed
    from the sums.
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

summed as (
    select
        month,
        count(*) as districts,
        count(*) filter (where has_membership_data) as districts_with_data,
        count(*) filter (where meets_uhc) as districts_meeting_uhc,
        count(*) filter (where uhc_award_tier is not null) as districts_with_uhc_award_tier,
        count(distinct province_code) as provinces,
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
    group by month
),

final as (
    -- the columns' types are the contract BI reads (_marts__models.yml): counts bigint,
    -- percentages numeric, codes text
    select
        summed.month::date as month,
        provinces::bigint as provinces,
        districts::bigint as districts,
        districts_with_data::bigint as districts_with_data,
        districts_meeting_uhc::bigint as districts_meeting_uhc,
        districts_with_uhc_award_tier::bigint as districts_with_uhc_award_tier,
        residents::bigint as residents,
        residents_source::text as residents_source,
        participants::bigint as participants,
        active_participants::bigint as active_participants,
        inactive_participants::bigint as inactive_participants,
        pemda_registered_participants::bigint as pemda_registered_participants,
        {{ pct('participants', 'residents') }}::numeric as coverage_pct,
        {{ pct('active_participants', 'participants') }}::numeric as active_pct,
        {{ pct('active_participants', 'residents') }}::numeric as active_coverage_pct,
        uhc_rule_code::text as uhc_rule_code,
        min_coverage_pct::numeric as min_coverage_pct,
        min_active_pct::numeric as min_active_pct,
        greatest(0, ceil(residents * min_coverage_pct / 100.0) - participants)::bigint as people_to_uhc,
        summed.people_to_uhc_in_districts::bigint as people_to_uhc_in_districts,
        month_fingerprints.inputs_fingerprint::text as inputs_fingerprint
    from summed
    inner join month_fingerprints on summed.month = month_fingerprints.month
)

select * from final
