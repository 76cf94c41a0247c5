{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        on_schema_change='sync_all_columns'
    )
}}
{#-
    One row per kab/kota per month per population group: the six JKN segments of every
    district-month with membership data, and the sex, age-band, prisoner and poor-resident groups
    where their sources report. Incremental by month like fct_coverage_district_month: a rebuilt
    month is replaced whole (unique_key month), so a group a reloaded source no longer reports
    for that month disappears instead of lingering.
-#}
{%- set compare_with_built = built_with_column('source_load_ids') %}
with

segments as (
    select * from {{ ref('int_memberships_unpivoted') }}
),

other_groups as (
    select * from {{ ref('int_group_participants_month') }}
),

districts as (
    select district_code, province_code from {{ ref('dim_districts') }}
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

{% if compare_with_built %}
-- each month's rows, as a count and a sum of row hashes: a month with a row that is new, gone or
-- built from other loads than before has another fingerprint (hash aggregates, no sort of the
-- whole history)
input_fingerprints as (
    select
        month,
        count(*) as row_count,
        sum(hashtextextended(concat_ws('|', district_code, population_group_code, source_load_ids), 0))
            as row_hash_sum
    from known_rows
    group by month
),

built_fingerprints as (
    select
        month,
        count(*) as row_count,
        sum(hashtextextended(concat_ws('|', district_code, population_group_code, source_load_ids), 0))
            as row_hash_sum
    from {{ this }}
    group by month
),

changed_months as (
    select coalesce(input_fingerprints.month, built_fingerprints.month) as month
    from input_fingerprints
    full outer join built_fingerprints on input_fingerprints.month = built_fingerprints.month
    where (input_fingerprints.row_count, input_fingerprints.row_hash_sum)
        is distinct from (built_fingerprints.row_count, built_fingerprints.row_hash_sum)
),
{% endif %}

rows_to_build as (
    select known_rows.*
    from known_rows
    {% if compare_with_built -%}
    where known_rows.month in (select month from changed_months)
    {%- endif %}
),

-- the district's participants as the sum of its segments: each family's shares add up to 100
district_participants as (
    select district_code, month, sum(participants) as segment_participants
    from segments
    group by district_code, month
),

final as (
    select
        rows_to_build.district_code,
        districts.province_code,
        rows_to_build.month,
        rows_to_build.population_group_code,
        rows_to_build.participants,
        rows_to_build.active_participants,
        rows_to_build.residents,
        {{ pct('rows_to_build.participants', 'rows_to_build.residents') }} as coverage_pct,
        {{ pct('rows_to_build.participants', 'district_participants.segment_participants') }}
            as share_of_participants_pct,
        groups.population_group_family,
        labels.label_id as label_id_published,
        rows_to_build.residents_source,
        rows_to_build.residents_as_of_date,
        rows_to_build.reported_under_code,
        rows_to_build.source_load_ids
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
