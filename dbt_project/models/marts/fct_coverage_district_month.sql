{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        indexes=[{'columns': ['month']}],
        on_schema_change='fail',
        pre_hook="{{ delete_months_built() }}"
    )
}}
{#-
    One row per kab/kota per month. Incremental by month: a run rebuilds only the months whose
    inputs (the membership loads, the residents loads, the districts and UHC rules) differ from
    what the table was built from, so a new month does not rebuild history; `--full-refresh`
    gives the same rows. The months are found first from per-month fingerprints (a few cheap
    aggregates), then every input is read for those months only. delete+insert with unique_key
    month replaces every row of a rebuilt month (the grain, district_code and month, is tested by
    unique_combination).
-#}
{%- set fingerprints_sql -%}
    select
        membership_loads.month,
        md5(concat_ws(
            ' ',
            {{ relation_fingerprint(ref('dim_districts')) }},
            {{ relation_fingerprint(ref('dim_uhc_rules')) }},
            membership_loads.load_ids,
            residents_loads.load_ids
        )) as inputs_fingerprint
    from (
        select period as month, load_ids
        from {{ dataset_loads_by_period('jkn_membership') }} as dataset_loads
    ) as membership_loads
    left join (
        select
            month,
            string_agg(distinct residents_source || ':' || load_id, ',' order by residents_source || ':' || load_id)
                as load_ids
        from {{ ref('int_residents_by_source_month') }}
        group by month
    ) as residents_loads
        on membership_loads.month = residents_loads.month
{%- endset %}
{%- set months = months_to_rebuild(fingerprints_sql) %}
{%- do remember_months_built(months) %}
with

districts as (
    select district_code, district_name, province_code, province_name from {{ ref('dim_districts') }}
),

memberships as (
    select
        district_code,
        month,
        participants_published,
        active_published,
        coverage_pct_published,
        source_name,
        load_id
    from {{ ref('int_memberships_picked') }}
    where {{ in_months('month', months) }}
),

segments as (
    select
        district_code,
        month,
        sum(participants) as segment_participants,
        sum(active_participants) as active_participants,
        sum(participants) filter (where population_group_code = 'pbi_apbd')
            as pemda_registered_participants
    from {{ ref('int_memberships_unpivoted') }}
    where {{ in_months('month', months) }}
    group by district_code, month
),

residents as (
    select * from {{ ref('int_residents_spread_to_months') }}
    where {{ in_months('month', months) }}
),

residents_by_source as (
    select
        district_code,
        month,
        max(residents) filter (where residents_source = 'dukcapil') as residents_dukcapil,
        max(residents) filter (where residents_source = 'bps') as residents_bps,
        max(load_id) filter (where residents_source = 'dukcapil') as dukcapil_load_id,
        max(load_id) filter (where residents_source = 'bps') as bps_load_id
    from {{ ref('int_residents_by_source_month') }}
    where {{ in_months('month', months) }}
    group by district_code, month
),

rules as (
    select * from {{ ref('dim_uhc_rules') }}
),

uhc_rules as (
    select uhc_rule_code, valid_from_date, valid_to_date, min_coverage_pct, min_active_pct
    from rules
    where rule_kind = 'uhc'
),

award_rules as (
    select
        uhc_rule_code,
        award_tier,
        tier_rank,
        valid_from_date,
        valid_to_date,
        min_coverage_pct,
        min_active_pct,
        min_pemda_registered_pct,
        pemda_waived_at_active_pct
    from rules
    where rule_kind = 'award'
),

months as (
    select distinct month from memberships
),

district_months as (
    select
        districts.district_code,
        districts.district_name,
        districts.province_code,
        districts.province_name,
        months.month
    from districts
    cross join months
),

month_fingerprints as (
    select month, inputs_fingerprint
    from ({{ fingerprints_sql }}) as fingerprints
    where {{ in_months('month', months) }}
),

months_to_build as (
    select
        district_months.district_code,
        district_months.district_name,
        district_months.province_code,
        district_months.province_name,
        district_months.month,
        -- which loads the row is built from
        concat_ws(
            ' ',
            memberships.source_name || ':' || memberships.load_id,
            'dukcapil_residents:' || residents_by_source.dukcapil_load_id,
            'bps_population:' || residents_by_source.bps_load_id
        ) as source_load_ids,
        month_fingerprints.inputs_fingerprint
    from district_months
    inner join month_fingerprints on district_months.month = month_fingerprints.month
    left join memberships
        on district_months.district_code = memberships.district_code
        and district_months.month = memberships.month
    left join residents_by_source
        on district_months.district_code = residents_by_source.district_code
        and district_months.month = residents_by_source.month
),

joined as (
    select
        months_to_build.district_code,
        months_to_build.district_name,
        months_to_build.province_code,
        months_to_build.province_name,
        months_to_build.month,
        residents.residents,
        residents.residents_source,
        residents.residents_as_of_date,
        residents_by_source.residents_dukcapil,
        residents_by_source.residents_bps,
        residents.reported_under_code,
        -- the published total where the office gives one: it is the figure BPJS reports
        coalesce(memberships.participants_published, segments.segment_participants) as participants,
        segments.segment_participants,
        -- a source without segments (a branch table) gives its active participants as a total
        coalesce(segments.active_participants, memberships.active_published) as active_participants,
        segments.pemda_registered_participants,
        memberships.source_name as membership_source,
        memberships.coverage_pct_published,
        memberships.load_id,
        residents.load_id as residents_load_id,
        months_to_build.source_load_ids,
        months_to_build.inputs_fingerprint
    from months_to_build
    left join memberships
        on months_to_build.district_code = memberships.district_code
        and months_to_build.month = memberships.month
    left join segments
        on months_to_build.district_code = segments.district_code
        and months_to_build.month = segments.month
    left join residents
        on months_to_build.district_code = residents.district_code
        and months_to_build.month = residents.month
    left join residents_by_source
        on months_to_build.district_code = residents_by_source.district_code
        and months_to_build.month = residents_by_source.month
),

measured as (
    select
        joined.*,
        joined.participants - joined.active_participants as inactive_participants,
        {{ pct('joined.participants', 'joined.residents') }} as coverage_pct,
        {{ pct('joined.active_participants', 'joined.participants') }} as active_pct,
        {{ pct('joined.active_participants', 'joined.residents') }} as active_coverage_pct,
        {{ pct('joined.pemda_registered_participants', 'joined.residents') }} as pemda_registered_pct,
        uhc_rules.uhc_rule_code,
        uhc_rules.min_coverage_pct,
        uhc_rules.min_active_pct
    from joined
    left join uhc_rules
        on joined.month between uhc_rules.valid_from_date and uhc_rules.valid_to_date
),

-- the best UHC Award tier whose criteria (any of its alternatives) the month meets
awards_met as (
    select distinct on (measured.district_code, measured.month)
        measured.district_code,
        measured.month,
        award_rules.award_tier,
        award_rules.uhc_rule_code as uhc_award_rule_code
    from measured
    inner join award_rules
        on measured.month between award_rules.valid_from_date and award_rules.valid_to_date
    where measured.coverage_pct >= award_rules.min_coverage_pct
        and measured.active_pct >= award_rules.min_active_pct
        and (
            award_rules.min_pemda_registered_pct is null
            or measured.pemda_registered_pct >= award_rules.min_pemda_registered_pct
            or measured.active_pct >= award_rules.pemda_waived_at_active_pct
        )
    order by measured.district_code, measured.month, award_rules.tier_rank desc,
        award_rules.uhc_rule_code
),

final as (
    -- the columns' types are the contract BI reads (_marts__models.yml): counts bigint,
    -- percentages numeric, codes text
    select
        measured.district_code::text as district_code,
        measured.district_name::text as district_name,
        measured.province_code::text as province_code,
        measured.province_name::text as province_name,
        measured.month::date as month,
        measured.residents::bigint as residents,
        measured.residents_source::text as residents_source,
        measured.residents_as_of_date::date as residents_as_of_date,
        measured.participants::bigint as participants,
        measured.active_participants::bigint as active_participants,
        measured.inactive_participants::bigint as inactive_participants,
        measured.segment_participants::bigint as segment_participants,
        measured.coverage_pct::numeric as coverage_pct,
        measured.active_pct::numeric as active_pct,
        measured.active_coverage_pct::numeric as active_coverage_pct,
        measured.coverage_pct_published::numeric as coverage_pct_published,
        measured.uhc_rule_code::text as uhc_rule_code,
        measured.min_coverage_pct::numeric as min_coverage_pct,
        measured.min_active_pct::numeric as min_active_pct,
        case
            when measured.coverage_pct is null or measured.active_pct is null then null
            else measured.coverage_pct >= measured.min_coverage_pct
                and measured.active_pct >= measured.min_active_pct
        end as meets_uhc,
        greatest(0, ceil(measured.residents * measured.min_coverage_pct / 100.0) - measured.participants)::bigint
            as people_to_uhc,
        greatest(0, ceil(measured.participants * measured.min_active_pct / 100.0) - measured.active_participants)::bigint
            as active_people_to_target,
        measured.participants is not null as has_membership_data,
        measured.load_id::bigint as load_id,
        measured.residents_dukcapil::bigint as residents_dukcapil,
        measured.residents_bps::bigint as residents_bps,
        measured.reported_under_code::text as reported_under_code,
        measured.pemda_registered_participants::bigint as pemda_registered_participants,
        measured.pemda_registered_pct::numeric as pemda_registered_pct,
        awards_met.award_tier::text as uhc_award_tier,
        awards_met.uhc_award_rule_code::text as uhc_award_rule_code,
        measured.residents_load_id::bigint as residents_load_id,
        measured.membership_source::text as membership_source,
        measured.source_load_ids::text as source_load_ids,
        measured.inputs_fingerprint::text as inputs_fingerprint
    from measured
    left join awards_met
        on measured.district_code = awards_met.district_code
        and measured.month = awards_met.month
)

select * from final
