{% test months_keep_their_districts(model) %}
{#- The guard of the facts, declared on int_memberships_picked: a month whose kab/kota count, national participants or a province's
    participants fall far below the month before (thresholds: the var month_guard) fails
    the build before the facts are written, so the marts keep their last good state and the run
    fails (and alerts). A row names the month, the check, both values and the sources and loads
    behind the month. The last three months are checked: a new month, or a month reloaded. A
    generic test, attached to the model it guards: dbt build skips what is downstream of a
    model whose test fails (a singular test is attached to no model and blocks nothing). -#}
with

memberships as (
    select * from {{ model }}
    where month >= (
        select max(period) - interval '3 months' from {{ observations_of('jkn_membership') }} as o
    )
),

-- the thresholds are the var month_guard (dbt_project.yml), not a seed: a test blocks the
-- models downstream of its model only when they depend on every parent of the test
thresholds as (
    select check_name, min_ratio
    from (
        values
            {%- for check_name, min_ratio in var('month_guard').items() %}
            ('{{ check_name }}', {{ min_ratio }}::numeric){{ ',' if not loop.last }}
            {%- endfor %}
    ) as guard (check_name, min_ratio)
),

participants as (
    select
        district_code,
        left(district_code, 2) as province_code,
        month,
        coalesce(
            participants_published,
            {%- for segment in ['pbi_apbn', 'pbi_apbd', 'ppu_pn', 'ppu_bu', 'pbpu', 'bp'] %}
            {{ segment }}_active + {{ segment }}_inactive{{ ' +' if not loop.last }}
            {%- endfor %}
        ) as participants,
        source_name || ':' || load_id as source_load
    from memberships
),

by_month as (
    select
        month,
        'districts' as check_name,
        null::text as province_code,
        count(distinct district_code)::numeric as value
    from participants
    group by month
    union all
    select month, 'national_participants', null, sum(participants)
    from participants
    group by month
    union all
    select month, 'province_participants', province_code, sum(participants)
    from participants
    group by month, province_code
),

compared as (
    select
        by_month.*,
        lag(by_month.value) over (
            partition by by_month.check_name, by_month.province_code order by by_month.month
        ) as previous_value,
        lag(by_month.month) over (
            partition by by_month.check_name, by_month.province_code order by by_month.month
        ) as previous_month
    from by_month
),

sources as (
    select month, string_agg(distinct source_load, ' ' order by source_load) as source_loads
    from participants
    group by month
),

final as (
    select
        compared.month,
        compared.check_name,
        compared.province_code,
        compared.value,
        compared.previous_month,
        compared.previous_value,
        round(compared.value / nullif(compared.previous_value, 0), 3) as ratio,
        thresholds.min_ratio,
        sources.source_loads
    from compared
    inner join thresholds on compared.check_name = thresholds.check_name
    inner join sources on compared.month = sources.month
    where compared.previous_month = (compared.month - interval '1 month')::date
        and compared.value < compared.previous_value * thresholds.min_ratio
)

select * from final
{% endtest %}
