{{
    config(
        indexes=[
            {'columns': ['period', 'district_code', 'list_kind']},
            {'columns': ['worklist_id']},
        ]
    )
}}
{#-
    One row per person to act on, per list and month (docs/PERSONS.md, "Worklists"):
    - not_enrolled: a living register resident with no BPJS card (detail: the DTSEN desil if any);
    - inactive: a living resident enrolled whose cards are all inactive (detail: the reason);
    - pbi_apbd_candidate: a living resident of a DTSEN desil 1-4 household without an active
      PBI (APBN or APBD) card (detail: the desil);
    - wbp_without_jkn: a prisoner (WBP list) without an active card, in the list of the home
      kab/kota and desa (detail: the facility);
    - dead_still_active: a resident dead in the register with an active card (detail: segment).
    `worklist_id` is stable across months (md5 of list and person key); status, verified_by and
    verified_on come from the latest returned verification of that id.
-#}
with

status as (
    select * from {{ ref('person_status') }}
),

records as (
    select record_id, dataset, period, district_code, kecamatan_code, desa_code, nik_key,
        facility, segment, active
    from {{ ref('stg_persons__records') }}
    where dataset in ('wbp', 'membership')
),

links as (
    select record_id, register_record_id from {{ ref('int_person_links') }}
),

verifications as (
    select worklist_id, status, verified_by, verified_on
    from (
        select
            verifications.*,
            row_number() over (
                partition by worklist_id
                order by verified_on desc nulls last, loaded_at desc nulls last, load_id desc
            ) as recency
        from {{ person_source('persons', 'worklist_verifications') }} as verifications
    ) as ranked
    where recency = 1
),

living as (
    select * from status where alive
),

not_enrolled as (
    select 'not_enrolled' as list_kind, living.*, 'desil ' || living.desil as detail
    from living
    where not enrolled
),

inactive as (
    select 'inactive' as list_kind, living.*, coalesce(inactive_reason, 'no reason given') as detail
    from living
    where enrolled and not active
),

pbi_apbd_candidates as (
    select 'pbi_apbd_candidate' as list_kind, living.*, 'desil ' || living.desil as detail
    from living
    where desil between 1 and 4
        and not (active and coalesce(segment, '') in ('PBI APBN', 'PBI APBD'))
),

dead_still_active as (
    select 'dead_still_active' as list_kind, status.*, status.segment as detail
    from status
    where not alive and active
),

resident_lists as (
    select list_kind, period, district_code, kecamatan_code, desa_code, record_id, person_key, detail
    from not_enrolled
    union all
    select list_kind, period, district_code, kecamatan_code, desa_code, record_id, person_key, detail
    from inactive
    union all
    select list_kind, period, district_code, kecamatan_code, desa_code, record_id, person_key, detail
    from pbi_apbd_candidates
    union all
    select list_kind, period, district_code, kecamatan_code, desa_code, record_id, person_key, detail
    from dead_still_active
),

months as (
    select distinct period from status
),

wbp_months as (
    select months.period, max(records.period) as wbp_period
    from months
    inner join records on records.dataset = 'wbp' and records.period <= months.period
    group by months.period
),

active_card_keys as (
    -- a prisoner who is not in the register may still hold an active card under the same NIK
    select distinct period, nik_key
    from records
    where dataset = 'membership' and active and nik_key is not null
),

prisoners as (
    select
        wbp_months.period,
        wbp.record_id,
        wbp.district_code,
        wbp.kecamatan_code,
        wbp.desa_code,
        wbp.facility,
        coalesce(status.person_key, wbp.nik_key, 'w' || wbp.record_id) as person_key,
        coalesce(status.active, false) or active_card_keys.nik_key is not null as has_active_card
    from wbp_months
    inner join records as wbp on wbp.dataset = 'wbp' and wbp.period = wbp_months.wbp_period
    left join links on wbp.record_id = links.record_id
    left join status
        on wbp_months.period = status.period
        and links.register_record_id = status.record_id
    left join active_card_keys
        on wbp_months.period = active_card_keys.period
        and wbp.nik_key = active_card_keys.nik_key
),

wbp_without_jkn as (
    select distinct on (period, person_key)
        'wbp_without_jkn' as list_kind,
        period,
        district_code,
        kecamatan_code,
        desa_code,
        record_id,
        person_key,
        facility as detail
    from prisoners
    where not has_active_card
    order by period, person_key, record_id
),

items as (
    select * from resident_lists
    union all
    select * from wbp_without_jkn
),

final as (
    select
        left(md5(items.list_kind || ':' || items.person_key), 20)::text as worklist_id,
        items.list_kind::text as list_kind,
        items.period::date as period,
        items.district_code::text as district_code,
        items.kecamatan_code::text as kecamatan_code,
        items.desa_code::text as desa_code,
        items.record_id::bigint as record_id,
        items.person_key::text as person_key,
        items.detail::text as detail,
        verifications.status::text as status,
        verifications.verified_by::text as verified_by,
        verifications.verified_on::date as verified_on
    from items
    left join verifications on left(md5(items.list_kind || ':' || items.person_key), 20) = verifications.worklist_id
)

select * from final
