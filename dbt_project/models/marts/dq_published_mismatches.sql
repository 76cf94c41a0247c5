{#- Where a source publishes its own percentage or total: the published figure next to the one
    recomputed from the source's parts, listed when they disagree (percentages by more than the
    var published_pct_tolerance percentage points, counts by any amount) -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key=['month'],
        on_schema_change='fail',
        pre_hook="{{ delete_months_built() }}",
        post_hook="{{ save_months_built(dq_published_mismatches_fingerprints()) }}"
    )
}}
{#-
    Incremental by month like the coverage facts (macros/incremental.sql): a run rebuilds the
    months whose loads changed. A month's checks read the membership and participants-by-age
    loads of that month, and the Dukcapil loads of its semester (the Dukcapil checks are dated
    by the semester's first month); the tolerance is part of every month's fingerprint. A month
    may have no mismatch: the months' fingerprints are kept beside the table
    (`intermediate.dq_published_mismatches__months`, by the post-hook), and the pre-hook deletes
    every row of the months rebuilt first (delete+insert alone replaces only the months it
    inserts rows for).
-#}
{%- set tolerance = var('published_pct_tolerance') %}
{%- set months = months_to_rebuild(dq_published_mismatches_fingerprints(), sparse=true) %}
{%- do remember_months_built(months) %}
{#- the semesters (their first months) of the months rebuilt: the Dukcapil rows they read -#}
{%- set semesters = none -%}
{%- if months is not none -%}
    {%- set semesters = [] -%}
    {%- for month in months -%}
        {%- do semesters.append(month[:5] ~ ('01-01' if month[5:7] | int <= 6 else '07-01')) -%}
    {%- endfor -%}
    {%- set semesters = semesters | unique | list -%}
{%- endif %}
with

-- every source that reports the membership, not only the one the facts take: a source's own
-- contradictions are listed whatever its precedence
memberships as (
    select * from {{ ref('int_memberships_by_source') }}
    where {{ in_months('month', months) }}
),

segments as (
    select
        district_code,
        month,
        source_name,
        pbi_apbn_active + pbi_apbn_inactive + pbi_apbd_active + pbi_apbd_inactive + ppu_pn_active + ppu_pn_inactive + ppu_bu_active + ppu_bu_inactive + pbpu_active + pbpu_inactive + bp_active + bp_inactive as segment_participants
    from memberships
    where has_segments
),

dukcapil as (
    select * from {{ ref('stg_dukcapil__residents') }}
    where {{ in_months('semester_start_month', semesters) }}
),

dukcapil_by_age as (
    select * from {{ ref('stg_dukcapil__residents_by_age') }}
    where {{ in_months('semester_start_month', semesters) }}
),

participants_by_age as (
    select * from {{ ref('stg_bpjs__participants_by_age') }}
    where {{ in_months('month', months) }}
),


checks as (
    -- the workbook's "Cakupan (%)" against its own Jumlah Peserta / Jumlah Penduduk
    select
        source_name,
        district_code,
        month,
        'coverage_pct' as measure,
        null::text as detail,
        coverage_pct_published::numeric as published_value,
        {{ pct('participants_published', 'residents_published') }} as recomputed_value,
        {{ tolerance }}::numeric as tolerance,
        '100 * Jumlah Peserta / Jumlah Penduduk of the same row' as recomputed_as,
        source_file,
        source_row,
        load_id
    from memberships
    where coverage_pct_published is not null and residents_published > 0

    union all

    -- a published active share ("% Aktif") against the source's own active / participants
    select
        source_name,
        district_code,
        month,
        'active_pct',
        null,
        active_pct_published,
        {{ pct('active_published', 'participants_published') }},
        {{ tolerance }}::numeric,
        '100 * active participants / participants of the same row',
        source_file,
        source_row,
        load_id
    from memberships
    where active_pct_published is not null and participants_published > 0
        and active_published is not null

    union all

    -- a published total against its own active + non-active participants
    select
        source_name,
        district_code,
        month,
        'participants',
        null,
        participants_published,
        active_published + inactive_published,
        0,
        'active + non-active participants of the same row',
        source_file,
        source_row,
        load_id
    from memberships
    where participants_published is not null and active_published is not null
        and inactive_published is not null

    union all

    -- the published total of participants against the sum of its segments
    select
        memberships.source_name,
        memberships.district_code,
        memberships.month,
        'participants',
        null,
        memberships.participants_published,
        segments.segment_participants,
        0,
        'sum of the segments (active + non-active)',
        memberships.source_file,
        memberships.source_row,
        memberships.load_id
    from memberships
    inner join segments
        on memberships.district_code = segments.district_code
        and memberships.month = segments.month
        and memberships.source_name = segments.source_name
    where memberships.participants_published is not null

    union all

    -- the workbook's residents against Dukcapil's count of the same semester
    select
        memberships.source_name,
        memberships.district_code,
        memberships.month,
        'residents',
        null,
        memberships.residents_published,
        dukcapil.residents,
        0,
        'Dukcapil residents of the semester',
        memberships.source_file,
        memberships.source_row,
        memberships.load_id
    from memberships
    inner join dukcapil
        on memberships.district_code = dukcapil.district_code
        and memberships.month >= dukcapil.semester_start_month
        and memberships.month <= dukcapil.semester_end_date
    where memberships.residents_published is not null

    union all

    -- each age band's published total against its men + women
    select
        'bpjs_participants_by_age',
        district_code,
        month,
        'participants',
        age_band_source,
        participants_published,
        participants_male + participants_female,
        0,
        'men + women of the age band',
        source_file,
        source_row,
        load_id
    from participants_by_age
    where participants_published is not null

    union all

    select
        'dukcapil_residents_by_age',
        district_code,
        semester_start_month,
        'residents',
        age_band_source,
        residents_published,
        residents_male + residents_female,
        0,
        'men + women of the age band',
        source_file,
        source_row,
        load_id
    from dukcapil_by_age
    where residents_published is not null

    union all

    -- Dukcapil's total residents against the sum of its age bands
    select
        'dukcapil_residents',
        dukcapil.district_code,
        dukcapil.semester_start_month,
        'residents',
        'sum of the age bands',
        dukcapil.residents,
        by_age.residents,
        0,
        'sum over the age bands (men + women) of dukcapil_residents_by_age',
        null,
        null,
        dukcapil.load_id
    from dukcapil
    inner join (
        select
            district_code,
            semester_start_month,
            sum(residents_male + residents_female) as residents
        from dukcapil_by_age
        group by district_code, semester_start_month
    ) as by_age
        on dukcapil.district_code = by_age.district_code
        and dukcapil.semester_start_month = by_age.semester_start_month
),

final as (
    select
        checks.source_name,
        checks.district_code,
        checks.month,
        checks.measure,
        checks.detail,
        checks.published_value,
        checks.recomputed_value,
        checks.published_value - checks.recomputed_value as difference,
        checks.tolerance,
        checks.recomputed_as,
        checks.source_file,
        checks.source_row,
        checks.load_id
    from checks
    -- only the months rebuilt (a Dukcapil check is dated by its semester's first month)
    where {{ in_months('checks.month', months) }}
        and (
            abs(checks.published_value - checks.recomputed_value) > checks.tolerance
            or (checks.published_value is null) <> (checks.recomputed_value is null)
        )
)

select * from final
