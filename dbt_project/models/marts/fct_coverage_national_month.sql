{#- one row per month for Indonesia, summed from the district facts; percentages recomputed from
    the sums -#}
with

district_facts as (
    select * from {{ ref('fct_coverage_district_month') }}
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
    select
        month,
        provinces,
        districts,
        districts_with_data,
        districts_meeting_uhc,
        districts_with_uhc_award_tier,
        residents,
        residents_source,
        participants,
        active_participants,
        inactive_participants,
        pemda_registered_participants,
        {{ pct('participants', 'residents') }} as coverage_pct,
        {{ pct('active_participants', 'participants') }} as active_pct,
        {{ pct('active_participants', 'residents') }} as active_coverage_pct,
        uhc_rule_code,
        min_coverage_pct,
        min_active_pct,
        greatest(0, ceil(residents * min_coverage_pct / 100.0) - participants)::bigint as people_to_uhc,
        people_to_uhc_in_districts
    from summed
)

select * from final
