{{
    config(
        post_hook=['analyze {{ this }}'],
        indexes=[
            {'columns': ['period', 'district_code']},
            {'columns': ['person_key']},
        ]
    )
}}
{#-
    One row per register resident and month: the months are those of the BPJS membership master
    (each with the latest register snapshot at or before it, and the latest DTSEN list), and
    what the linked records (restricted.int_person_links) say of the resident: enrolled, active,
    segment, cards, desil. Keyed: no name, NIK, birth date or address.
-#}
with

records as (
    select
        record_id, dataset, period, register_period, district_code, kecamatan_code, desa_code,
        nik_key, sex, birth_date, alive, segment, active, inactive_reason, registered_on, desil
    from {{ ref('stg_persons__records') }}
),

links as (
    select record_id, register_record_id
    from {{ ref('int_person_links') }}
    where register_record_id is not null
),

age_bands as (
    select population_group_code as age_band, min_age, max_age from {{ ref('age_bands') }}
),

months as (
    select distinct period, register_period
    from records
    where dataset = 'membership' and register_period is not null
),

dtsen_months as (
    select months.period, max(dtsen.period) as dtsen_period
    from months
    inner join (select distinct period from records where dataset = 'dtsen') as dtsen
        on dtsen.period <= months.period
    group by months.period
),

residents as (
    select
        months.period,
        register.record_id,
        register.district_code,
        register.kecamatan_code,
        register.desa_code,
        register.nik_key,
        register.sex,
        register.birth_date,
        register.alive
    from months
    inner join records as register
        on register.dataset = 'register' and register.period = months.register_period
),

cards as (
    select
        records.period,
        links.register_record_id,
        records.record_id,
        records.segment,
        records.active,
        records.inactive_reason,
        row_number() over (
            partition by records.period, links.register_record_id
            order by records.active desc nulls last, left(records.segment, 3) = 'PBI' desc nulls last,
                records.registered_on desc nulls last,
                records.record_id desc
        ) as card_rank
    from records
    inner join links on records.record_id = links.record_id
    where records.dataset = 'membership'
),

memberships as (
    select
        period,
        register_record_id,
        count(*) as card_count,
        bool_or(coalesce(active, false)) as active,
        max(segment) filter (where card_rank = 1) as segment,
        max(inactive_reason) filter (where card_rank = 1) as inactive_reason
    from cards
    group by period, register_record_id
),

deciles as (
    select dtsen_months.period, links.register_record_id, min(records.desil) as desil
    from dtsen_months
    inner join records on records.dataset = 'dtsen' and records.period = dtsen_months.dtsen_period
    inner join links on records.record_id = links.record_id
    group by dtsen_months.period, links.register_record_id
),

final as (
    select
        coalesce(residents.nik_key, 'r' || residents.record_id)::text as person_key,
        residents.record_id::bigint as record_id,
        residents.period::date as period,
        residents.district_code::text as district_code,
        residents.kecamatan_code::text as kecamatan_code,
        residents.desa_code::text as desa_code,
        residents.sex::text as sex,
        age_bands.age_band::text as age_band,
        coalesce(residents.alive, true) as alive,
        memberships.register_record_id is not null as enrolled,
        coalesce(memberships.active, false) as active,
        memberships.segment::text as segment,
        memberships.inactive_reason::text as inactive_reason,
        coalesce(memberships.card_count, 0)::integer as card_count,
        deciles.desil::smallint as desil
    from residents
    left join memberships
        on residents.period = memberships.period
        and residents.record_id = memberships.register_record_id
    left join deciles
        on residents.period = deciles.period
        and residents.record_id = deciles.register_record_id
    left join age_bands
        on date_part('year', age((residents.period + interval '1 month - 1 day')::date, residents.birth_date))
            between age_bands.min_age and coalesce(age_bands.max_age, 200)
)

select * from final
