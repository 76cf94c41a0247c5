{#-
    One row per kab/kota per month of the BPJS membership master: the person-level count beside
    the aggregate BPJS recap of the same kab/kota and month (fct_coverage_district_month), and the
    records of the master explained (docs/PERSONS.md, "Reconciliation"):

        membership_records = person_participants - moved_in + duplicate_cards + dead
                             + moved_out + not_in_register + unmatched

    (test assert_person_reconciliation_adds_up). A record of the district linked to a living
    resident of the same district counts that resident once; the resident's further cards there
    are duplicate_cards; linked to a dead resident: dead; to a resident of another kab/kota:
    moved_out; not linked, with a valid NIK: not_in_register; without: unmatched. moved_in are
    the district's enrolled residents whose cards are all in other districts' records.
-#}
with

status as (
    select period, record_id, district_code, alive, enrolled
    from {{ ref('person_status') }}
),

records as (
    select record_id, period, district_code, nik_key
    from {{ ref('stg_persons__records') }}
    where dataset = 'membership'
),

links as (
    select record_id, register_record_id from {{ ref('int_person_links') }}
),

recap as (
    select district_code, month as period, participants
    from {{ ref('fct_coverage_district_month') }}
),

classified as (
    select
        records.period,
        records.district_code,
        links.register_record_id,
        case
            when status.record_id is null and records.nik_key is not null then 'not_in_register'
            when status.record_id is null then 'unmatched'
            when not status.alive then 'dead'
            when status.district_code <> records.district_code then 'moved_out'
            else 'own'
        end as explanation,
        row_number() over (
            partition by records.period, records.district_code, links.register_record_id
            order by records.record_id
        ) as card_rank
    from records
    left join links on records.record_id = links.record_id
    left join status
        on records.period = status.period
        and links.register_record_id = status.record_id
),

record_counts as (
    select
        period,
        district_code,
        count(*) as membership_records,
        count(*) filter (where explanation = 'own' and card_rank = 1) as participants_own_records,
        count(*) filter (where explanation = 'own' and card_rank > 1) as duplicate_cards,
        count(*) filter (where explanation = 'dead') as dead,
        count(*) filter (where explanation = 'moved_out') as moved_out,
        count(*) filter (where explanation = 'not_in_register') as not_in_register,
        count(*) filter (where explanation = 'unmatched') as unmatched
    from classified
    group by period, district_code
),

own_residents as (
    select distinct period, district_code, register_record_id
    from classified
    where explanation = 'own'
),

resident_counts as (
    select
        status.period,
        status.district_code,
        count(*) filter (where status.alive) as register_residents,
        count(*) filter (where status.alive and status.enrolled) as person_participants,
        count(*) filter (
            where status.alive and status.enrolled and own_residents.register_record_id is null
        ) as moved_in
    from status
    left join own_residents
        on status.period = own_residents.period
        and status.district_code = own_residents.district_code
        and status.record_id = own_residents.register_record_id
    group by status.period, status.district_code
),

district_months as (
    select period, district_code from record_counts
    union
    select period, district_code from resident_counts
),

final as (
    select
        district_months.period::date as period,
        district_months.district_code::text as district_code,
        coalesce(resident_counts.register_residents, 0)::bigint as register_residents,
        coalesce(resident_counts.person_participants, 0)::bigint as person_participants,
        coalesce(record_counts.membership_records, 0)::bigint as membership_records,
        recap.participants::bigint as bpjs_recap_participants,
        (recap.participants - coalesce(resident_counts.person_participants, 0))::bigint
            as recap_minus_person_participants,
        (recap.participants - coalesce(record_counts.membership_records, 0))::bigint
            as recap_minus_membership_records,
        coalesce(record_counts.not_in_register, 0)::bigint as not_in_register,
        coalesce(record_counts.dead, 0)::bigint as dead,
        coalesce(record_counts.moved_out, 0)::bigint as moved_out,
        coalesce(resident_counts.moved_in, 0)::bigint as moved_in,
        coalesce(record_counts.duplicate_cards, 0)::bigint as duplicate_cards,
        coalesce(record_counts.unmatched, 0)::bigint as unmatched
    from district_months
    left join record_counts
        on district_months.period = record_counts.period
        and district_months.district_code = record_counts.district_code
    left join resident_counts
        on district_months.period = resident_counts.period
        and district_months.district_code = resident_counts.district_code
    left join recap
        on district_months.period = recap.period
        and district_months.district_code = recap.district_code
)

select * from final
