{{ config(post_hook=['analyze {{ this }}']) }}
{#-
    One row per membership, DTSEN or WBP record whose keyed NIK is in the register snapshot it is
    matched against: the register record, and the similarity of the two names. A NIK mistyped
    into another resident's valid NIK (one digit of the serial changed) meets a person of another
    name: such a link is refused (`is_accepted` false) below the var
    person_match.nik_min_name_similarity, and the record goes to the probable matching.
-#}
with

records as (
    select record_id, dataset, register_period, nik_key, name_key
    from {{ ref('stg_persons__records') }}
    where dataset <> 'register' and nik_key is not null and register_period is not null
),

register as (
    select record_id as register_record_id, period as register_period, nik_key, name_key
    from {{ ref('stg_persons__records') }}
    where dataset = 'register' and nik_key is not null
),

joined as (
    select
        records.record_id,
        records.dataset,
        register.register_record_id,
        {{ trgm_similarity('records.name_key', 'register.name_key') }} as name_similarity
    from records
    inner join register
        on records.nik_key = register.nik_key
        and records.register_period = register.register_period
),

best as (
    -- a NIK given twice in the register: the resident of the closer name
    select distinct on (record_id) *
    from joined
    order by record_id, name_similarity desc nulls first, register_record_id
),

final as (
    select
        record_id,
        dataset,
        register_record_id,
        name_similarity::numeric(4, 3) as name_similarity,
        coalesce(
            name_similarity >= {{ var('person_match')['nik_min_name_similarity'] }}, true
        ) as is_accepted
    from best
)

select * from final
