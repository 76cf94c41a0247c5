{{
    config(
        post_hook=['analyze {{ this }}'],
        indexes=[{'columns': ['record_id'], 'unique': true}, {'columns': ['register_record_id']}],
    )
}}
{#-
    One row per membership, DTSEN or WBP record: the register resident it is the same person as
    (`register_record_id`, null when none), how (`match_kind` nik | probable | none), the
    probability and the evidence. Exact first: an accepted link on the keyed NIK
    (int_person_nik_links). Then probable, one to one per dataset: a record takes its best
    candidate (int_person_match_candidates) at or above var person_match.threshold when it is
    also that resident's best candidate among the records of the dataset not linked on NIK (a
    resident linked on NIK may so take one more record of the dataset: a second card).
-#}
{%- set weights = var('person_match') %}
with

records as (
    select record_id, dataset, period, district_code, nik_key, nik_status, name_key
    from {{ ref('stg_persons__records') }}
    where dataset <> 'register'
),

nik_links as (
    select * from {{ ref('int_person_nik_links') }}
),

candidates as (
    select * from {{ ref('int_person_match_candidates') }}
),

eligible as (
    select * from candidates where match_probability >= {{ weights['threshold'] }}
),

ranked as (
    select
        eligible.*,
        row_number() over (
            partition by record_id order by score desc, register_record_id
        ) as rank_for_record,
        row_number() over (
            partition by dataset, register_record_id order by score desc, record_id
        ) as rank_for_resident
    from eligible
),

probable_links as (
    select * from ranked where rank_for_record = 1 and rank_for_resident = 1
),

best_candidates as (
    -- for a record left unlinked: its best candidate, as evidence of why not
    select distinct on (record_id) *
    from candidates
    order by record_id, score desc, register_record_id
),

final as (
    select
        records.record_id,
        case
            when nik_links.is_accepted then nik_links.register_record_id
            else probable_links.register_record_id
        end as register_record_id,
        records.dataset,
        records.period,
        records.district_code,
        case
            when nik_links.is_accepted then 'nik'
            when probable_links.record_id is not null then 'probable'
            else 'none'
        end as match_kind,
        case
            when nik_links.is_accepted then 1
            when probable_links.record_id is not null then probable_links.match_probability
            else coalesce(best_candidates.match_probability, 0)
        end::numeric as match_probability,
        case
            when nik_links.is_accepted
                then concat_ws(', ', 'nik =', 'name ' || nik_links.name_similarity)
            when probable_links.record_id is not null then {{ person_match_evidence('probable_links') }}
            when best_candidates.record_id is not null
                then 'below threshold or taken: ' || {{ person_match_evidence('best_candidates') }}
            when nik_links.record_id is not null
                then 'nik =, name ' || nik_links.name_similarity || ': refused, no other candidate'
            when records.name_key is null then 'no name to compare'
            when records.nik_key is not null then 'nik not in the register, no candidate'
            else 'nik ' || records.nik_status || ', no candidate'
        end as evidence
    from records
    left join nik_links on records.record_id = nik_links.record_id
    left join probable_links on records.record_id = probable_links.record_id
    left join best_candidates on records.record_id = best_candidates.record_id
)

select * from final
