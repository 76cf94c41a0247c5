with

districts as (
    select district_code, province_code from {{ ref('dim_districts') }}
),

memberships as (
    select * from {{ ref('stg_bpjs__memberships') }}
),

segments as (
    select
        district_code,
        month,
        sum(participants) as segment_participants,
        sum(active_participants) as active_participants
    from {{ ref('int_memberships_unpivoted') }}
    group by district_code, month
),

residents as (
    select * from {{ ref('int_residents_spread_to_months') }}
),

rules as (
    select * from {{ ref('dim_uhc_rules') }}
),

months as (
    select distinct month from memberships
),

district_months as (
    select districts.district_code, districts.province_code, months.month
    from districts
    cross join months
),

joined as (
    select
        district_months.district_code,
        district_months.province_code,
        district_months.month,
        residents.residents,
        residents.residents_source,
        residents.residents_as_of_date,
        -- the published total where the office gives one: it is the figure BPJS reports
        coalesce(memberships.participants_published, segments.segment_participants) as participants,
        segments.segment_participants,
        segments.active_participants,
        memberships.coverage_pct_published,
        memberships.load_id
    from district_months
    left join memberships
        on district_months.district_code = memberships.district_code
        and district_months.month = memberships.month
    left join segments
        on district_months.district_code = segments.district_code
        and district_months.month = segments.month
    left join residents
        on district_months.district_code = residents.district_code
        and district_months.month = residents.month
),

measured as (
    select
        joined.*,
        joined.participants - joined.active_participants as inactive_participants,
        {{ pct('joined.participants', 'joined.residents') }} as coverage_pct,
        {{ pct('joined.active_participants', 'joined.participants') }} as active_pct,
        {{ pct('joined.active_participants', 'joined.residents') }} as active_coverage_pct,
        rules.uhc_rule_code,
        rules.min_coverage_pct,
        rules.min_active_pct
    from joined
    left join rules
        on joined.month between rules.valid_from_date and rules.valid_to_date
),

final as (
    select
        district_code,
        province_code,
        month,
        residents,
        residents_source,
        residents_as_of_date,
        participants,
        active_participants,
        inactive_participants,
        segment_participants,
        coverage_pct,
        active_pct,
        active_coverage_pct,
        coverage_pct_published,
        uhc_rule_code,
        min_coverage_pct,
        min_active_pct,
        case
            when coverage_pct is null or active_pct is null then null
            else coverage_pct >= min_coverage_pct and active_pct >= min_active_pct
        end as meets_uhc,
        greatest(0, ceil(residents * min_coverage_pct / 100.0) - participants)::bigint
            as people_to_uhc,
        greatest(0, ceil(participants * min_active_pct / 100.0) - active_participants)::bigint
            as active_people_to_target,
        participants is not null as has_membership_data,
        load_id
    from measured
)

select * from final
