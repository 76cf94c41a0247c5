with

groups as (
    select * from {{ ref('int_memberships_unpivoted') }}
),

districts as (
    select district_code, province_code from {{ ref('dim_districts') }}
),

with_totals as (
    select
        groups.district_code,
        districts.province_code,
        groups.month,
        groups.population_group_code,
        groups.participants,
        groups.active_participants,
        sum(groups.participants) over (partition by groups.district_code, groups.month)
            as district_participants
    from groups
    inner join districts on groups.district_code = districts.district_code
),

final as (
    select
        district_code,
        province_code,
        month,
        population_group_code,
        participants,
        active_participants,
        null::bigint as residents,
        null::numeric as coverage_pct,
        {{ pct('participants', 'district_participants') }} as share_of_participants_pct
    from with_totals
)

select * from final
