{{
    config(
        post_hook=['analyze {{ this }}'],
        indexes=[{'columns': ['record_id']}, {'columns': ['register_record_id']}],
    )
}}
{#-
    One row per probable pair: a membership, DTSEN or WBP record with no accepted NIK link (NIK
    missing, invalid, not in the register, or refused) and a register resident of the snapshot
    it is matched against who shares its birth date and sex, or its desa, birth year and name
    initial, or its name and birth year (the blocks). Each pair is scored by agreement weights (log-odds, vars
    person_match.*): the trigram similarity of the two names in matching form, birth date, sex,
    desa/kecamatan/kab-kota, and a penalty when the record's valid NIK is not in the register;
    `match_probability` is the logistic of the score. Pairs below 0.2
    are not kept.
-#}
{%- set weights = var('person_match') %}
with

records as (
    -- only the columns compared: the pairs are many, narrow rows join faster
    select
        record_id, dataset, register_period, nik_key, name_key, birth_date, birth_year, sex,
        desa_code, kecamatan_code, district_code
    from {{ ref('stg_persons__records') }}
    where dataset <> 'register' and register_period is not null and name_key is not null
),

nik_links as (
    select record_id, is_accepted from {{ ref('int_person_nik_links') }}
),

unlinked as (
    select
        records.*,
        left(records.name_key, 1) as initial,
        -- a valid NIK that no resident of the register has: most such records are people the
        -- register does not have (a mistyped NIK usually fails the check, or meets a resident)
        records.nik_key is not null and nik_links.record_id is null as has_unknown_nik
    from records
    left join nik_links on records.record_id = nik_links.record_id
    where nik_links.is_accepted is not true
),

register as (
    select
        record_id, period, name_key, left(name_key, 1) as initial, birth_date, birth_year, sex,
        desa_code, kecamatan_code, district_code
    from {{ ref('stg_persons__records') }}
    where dataset = 'register' and name_key is not null
),

-- the blocks: only pairs that share one of these are compared
same_birth_date_and_sex as (
    select unlinked.record_id, register.record_id as register_record_id
    from unlinked
    inner join register
        on unlinked.register_period = register.period
        and unlinked.birth_date = register.birth_date
        and unlinked.sex = register.sex
),

same_desa_year_and_initial as (
    -- a mistyped birth date or sex, in the same desa
    select unlinked.record_id, register.record_id as register_record_id
    from unlinked
    inner join register
        on unlinked.register_period = register.period
        and unlinked.desa_code = register.desa_code
        and unlinked.birth_year = register.birth_year
        and unlinked.initial = register.initial
),

same_name_and_year as (
    -- a mover with a mistyped birth date
    select unlinked.record_id, register.record_id as register_record_id
    from unlinked
    inner join register
        on unlinked.register_period = register.period
        and unlinked.name_key = register.name_key
        and unlinked.birth_year = register.birth_year
),

pairs as (
    select * from same_birth_date_and_sex
    union
    select * from same_desa_year_and_initial
    union
    select * from same_name_and_year
),

compared as (
    select
        pairs.record_id,
        pairs.register_record_id,
        unlinked.dataset,
        unlinked.register_period,
        unlinked.has_unknown_nik,
        {{ trgm_similarity('unlinked.name_key', 'register.name_key') }} as name_similarity,
        case
            when unlinked.birth_date = register.birth_date then '='
            when unlinked.birth_year = register.birth_year
                and (
                    extract(month from unlinked.birth_date) = extract(month from register.birth_date)
                    or extract(day from unlinked.birth_date) = extract(day from register.birth_date)
                ) then '~'
            when unlinked.birth_year = register.birth_year then 'year'
            else '!='
        end as birth_date_agreement,
        case
            when unlinked.sex is null or register.sex is null then '?'
            when unlinked.sex = register.sex then '='
            else '!='
        end as sex_agreement,
        case
            when unlinked.desa_code = register.desa_code then 'desa'
            when unlinked.kecamatan_code = register.kecamatan_code then 'kecamatan'
            when unlinked.district_code = register.district_code then 'district'
            else 'none'
        end as place_agreement
    from pairs
    inner join unlinked on pairs.record_id = unlinked.record_id
    inner join register on pairs.register_record_id = register.record_id
),

scored as (
    select
        compared.*,
        {{ weights['prior'] }}
        + least({{ weights['name_max'] }}, {{ weights['name_slope'] }} * (name_similarity - {{ weights['name_neutral'] }}))
        + case birth_date_agreement
            when '=' then {{ weights['birth_date_equal'] }}
            when '~' then {{ weights['birth_date_near'] }}
            when 'year' then {{ weights['birth_year_only'] }}
            else {{ weights['birth_date_differs'] }}
        end
        + case sex_agreement
            when '=' then {{ weights['sex_equal'] }}
            when '!=' then {{ weights['sex_differs'] }}
            else 0
        end
        + case place_agreement
            when 'desa' then {{ weights['desa_equal'] }}
            when 'kecamatan' then {{ weights['kecamatan_equal'] }}
            when 'district' then {{ weights['district_equal'] }}
            else 0
        end
        + case when has_unknown_nik then {{ weights['nik_not_in_register'] }} else 0 end as score
    from compared
),

final as (
    select
        record_id,
        register_record_id,
        dataset,
        register_period,
        name_similarity::numeric(4, 3) as name_similarity,
        birth_date_agreement,
        sex_agreement,
        place_agreement,
        has_unknown_nik,
        score::numeric(8, 3) as score,
        (1 / (1 + exp(-score)))::numeric(6, 5) as match_probability
    from scored
    where score >= -1.4  -- probability 0.2
)

select * from final
