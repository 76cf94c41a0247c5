{{
    config(
        pre_hook=['{{ ensure_pg_trgm() }}'],
        post_hook=['analyze {{ this }}'],
        indexes=[
            {'columns': ['dataset', 'register_period']},
            {'columns': ['nik_key']},
            {'columns': ['record_id'], 'unique': true},
        ]
    )
}}
{#-
    One row per current person-level record (restricted.person_records of a succeeded load that
    no later load of the same source supersedes), with its name in matching form (`name_key`,
    macro person_name_key, computed once per distinct name) and, for a membership, DTSEN or WBP
    record, the register snapshot it is matched against (`register_period`: the latest register
    month at or before its own month).
-#}
with

records as (
    select
        record_id,
        load_id,
        district_code,
        kecamatan_code,
        desa_code,
        nik_key,
        nik_status,
        kk_key,
        card_key,
        full_name,
        sex,
        birth_date,
        alive,
        died_on,
        segment,
        active,
        inactive_reason,
        registered_on,
        desil,
        facility
    from {{ person_source('restricted', 'person_records') }} as person_records
),

loads as (
    -- the load log as a source, not its staging view: every transform rebuilds what is
    -- downstream of that view, and a new aggregate load must not rebuild the person models
    select load_id from {{ source('cakupan', 'loads') }}
    where status = 'succeeded' and superseded_by is null
),

scopes as (
    -- a person load's dataset and period (its one scope): not repeated on its records
    select load_id, dataset, period from {{ source('cakupan', 'load_scopes') }}
),

superseded as (
    -- a person file's scope is its own kab/kota (the contract's district_pattern) while its
    -- records carry their addresses' kab/kota (a mover's, a prisoner's home): a load superseded
    -- for its period in any region is superseded whole
    select distinct load_id, period from {{ source('cakupan', 'superseded') }}
),

current_records as (
    select records.*, scopes.dataset, scopes.period
    from records
    inner join loads on records.load_id = loads.load_id
    inner join scopes on records.load_id = scopes.load_id
    where not exists (
        select 1
        from superseded
        where superseded.load_id = records.load_id
            and (superseded.period = scopes.period or superseded.period is null)
    )
),

names as (
    select distinct full_name from current_records where full_name is not null
),

name_keys as (
    select full_name, {{ person_name_key('full_name') }} as name_key from names
),

register_periods as (
    select distinct period from current_records where dataset = 'register'
),

record_periods as (
    select distinct period from current_records where dataset <> 'register'
),

period_map as (
    select record_periods.period, max(register_periods.period) as register_period
    from record_periods
    inner join register_periods on register_periods.period <= record_periods.period
    group by record_periods.period
),

final as (
    select
        current_records.*,
        name_keys.name_key,
        extract(year from current_records.birth_date)::integer as birth_year,
        case
            when current_records.dataset = 'register' then current_records.period
            else period_map.register_period
        end as register_period
    from current_records
    left join name_keys on current_records.full_name = name_keys.full_name
    left join period_map on current_records.period = period_map.period
)

select * from final
