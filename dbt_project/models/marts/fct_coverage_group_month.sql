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
    One row per kab/kota per month per population group: the six JKN segments of every
    district-month with membership data, and the sex, age-band, prisoner and poor-resident groups
    where their sources report. Incremental by month like fct_coverage_district_month: the months
    whose inputs fingerprint changed are rebuilt, reading every input for those months only, and
    a rebuilt month is replaced whole (unique_key month), so a group a reloaded source no longer
    reports for that month disappears instead of lingering.
-#}
{%- set fingerprints_sql -%}
    select
        loads.month,
        md5(concat_ws(
            ' ',
            {{ relation_fingerprint(ref('dim_districts')) }},
            {{ relation_fingerprint(ref('dim_population_groups')) }},
            {{ relation_fingerprint(ref('dim_population_group_labels')) }},
            string_agg(loads.load_ids, ' ' order by loads.load_ids)
        )) as inputs_fingerprint
    from (
        select period as month, 'jkn_membership:' || load_ids as load_ids
        from {{ dataset_loads_by_period('jkn_membership') }} as dataset_loads
        union all
        -- the distinct load pairs first (a hash aggregate), then one text per month: a sorted
        -- distinct over every row of the table would sort it all
        select month, 'groups:' || string_agg(load_pair, ',' order by load_pair) as load_ids
        from (
            select distinct month, concat_ws('/', participants_load_id, residents_load_id) as load_pair
            from {{ ref('int_group_participants_month') }}
        ) as group_loads
        group by month
    ) as loads
    group by loads.month
{%- endset %}
{%- set months = months_to_rebuild(fingerprints_sql) %}
{%- do remember_months_built(months) %}
with

segments as (
    select * from {{ ref('int_memberships_unpivoted') }}
    where {{ in_months('month', months) }}
),

other_groups as (
    select * from {{ ref('int_group_participants_month') }}
    where {{ in_months('month', months) }}
),

month_fingerprints as (
    select month, inputs_fingerprint
    from ({{ fingerprints_sql }}) as fingerprints
    where {{ in_months('month', months) }}
),

districts as (
    select district_code, district_name, province_code, province_name from {{ ref('dim_districts') }}
),

groups as (
    select population_group_code, population_group_family from {{ ref('dim_population_groups') }}
),

labels as (
    select * from {{ ref('dim_population_group_labels') }}
),

segment_rows as (
    select
        district_code,
        month,
        population_group_code,
        participants,
        active_participants,
        null::bigint as residents,
        null::text as residents_source,
        null::date as residents_as_of_date,
        null::text as reported_under_code,
        'bpjs_membership:' || load_id as source_load_ids
    from segments
),

other_rows as (
    select
        district_code,
        month,
        population_group_code,
        participants,
        null::bigint as active_participants,
        residents,
        residents_source,
        residents_as_of_date,
        reported_under_code,
        concat_ws(
            ' ',
            'participants:' || participants_load_id,
            'residents:' || residents_load_id
        ) as source_load_ids
    from other_groups
),

all_rows as (
    select * from segment_rows
    union all
    select * from other_rows
),

known_rows as (
    select all_rows.*
    from all_rows
    inner join districts on all_rows.district_code = districts.district_code
),

rows_to_build as (
    select known_rows.*, month_fingerprints.inputs_fingerprint
    from known_rows
    inner join month_fingerprints on known_rows.month = month_fingerprints.month
),

-- the district's participants as the sum of its segments: each family's shares add up to 100
district_participants as (
    select district_code, month, sum(participants) as segment_participants
    from segments
    group by district_code, month
),

final as (
    -- the columns' types are the contract BI reads (_marts__models.yml): counts bigint,
    -- percentages numeric, codes text
    select
        rows_to_build.district_code::text as district_code,
        districts.district_name::text as district_name,
        districts.province_code::text as province_code,
        districts.province_name::text as province_name,
        rows_to_build.month::date as month,
        rows_to_build.population_group_code::text as population_group_code,
        rows_to_build.participants::bigint as participants,
        rows_to_build.active_participants::bigint as active_participants,
        rows_to_build.residents::bigint as residents,
        {{ pct('rows_to_build.participants', 'rows_to_build.residents') }}::numeric as coverage_pct,
        {{ pct('rows_to_build.participants', 'district_participants.segment_participants') }}::numeric
            as share_of_participants_pct,
        groups.population_group_family::text as population_group_family,
        labels.label_id::text as label_id_published,
        rows_to_build.residents_source::text as residents_source,
        rows_to_build.residents_as_of_date::date as residents_as_of_date,
        rows_to_build.reported_under_code::text as reported_under_code,
        rows_to_build.source_load_ids::text as source_load_ids,
        rows_to_build.inputs_fingerprint::text as inputs_fingerprint
    from rows_to_build
    inner join districts on rows_to_build.district_code = districts.district_code
    left join groups on rows_to_build.population_group_code = groups.population_group_code
    left join labels
        on rows_to_build.population_group_code = labels.population_group_code
        and rows_to_build.month between labels.valid_from_date and labels.valid_to_date
    left join district_participants
        on rows_to_build.district_code = district_participants.district_code
        and rows_to_build.month = district_participants.month
)

select * from final
