{#- one row per kab/kota per month per population group other than the JKN segments (sex, age
    band, prisoners, poor residents): participants and, where a denominator exists, residents.
    A table, not a view like the other intermediate models: fct_coverage_group_month reads all of
    it on every incremental run to find the months to rebuild, and computing it takes most of
    that run; as a table it is rebuilt only when its own sources load (not by a new membership
    month, `cakupan transform --after bpjs_membership`). -#}
{{ config(materialized='table') }}
with

participants_by_age as (
    select * from {{ ref('stg_bpjs__participants_by_age') }}
),

aliases as (
    select age_band_key, population_group_code from {{ ref('age_band_aliases') }}
),

residents_by_age as (
    select * from {{ ref('int_residents_by_age_month') }}
),

wbp as (
    select * from {{ ref('stg_pemasyarakatan__wbp_enrolment') }}
),

deciles as (
    select * from {{ ref('stg_dtsen__deciles') }}
),

-- participants by age band and sex next to the residents of the same band and sex
age_cells as (
    select
        participants.district_code,
        participants.month,
        aliases.population_group_code as age_group_code,
        participants.participants_male,
        participants.participants_female,
        residents.residents_male,
        residents.residents_female,
        residents.residents_as_of_date,
        case
            when participants.region_code_source <> participants.district_code
                then participants.region_code_source
        end as participants_reported_under_code,
        residents.reported_under_code as residents_reported_under_code,
        participants.load_id as participants_load_id,
        residents.load_id as residents_load_id
    from participants_by_age as participants
    inner join aliases on participants.age_band_key = aliases.age_band_key
    left join residents_by_age as residents
        on participants.district_code = residents.district_code
        and participants.month = residents.month
        and aliases.population_group_code = residents.age_group_code
),

by_age as (
    select
        district_code,
        month,
        age_group_code as population_group_code,
        participants_male + participants_female as participants,
        residents_male + residents_female as residents,
        case when residents_as_of_date is not null then 'dukcapil' end as residents_source,
        residents_as_of_date,
        coalesce(participants_reported_under_code, residents_reported_under_code)
            as reported_under_code,
        participants_load_id,
        residents_load_id
    from age_cells
),

by_sex as (
    select
        age_cells.district_code,
        age_cells.month,
        sexes.population_group_code,
        sum(case when sexes.is_male then age_cells.participants_male else age_cells.participants_female end)
            as participants,
        -- a district-month with a band missing from the residents has no complete denominator
        case
            when count(age_cells.residents_as_of_date) = count(*) then
                sum(case when sexes.is_male then age_cells.residents_male else age_cells.residents_female end)
        end as residents,
        case when count(age_cells.residents_as_of_date) = count(*) then 'dukcapil' end
            as residents_source,
        max(age_cells.residents_as_of_date) as residents_as_of_date,
        max(coalesce(age_cells.participants_reported_under_code, age_cells.residents_reported_under_code))
            as reported_under_code,
        max(age_cells.participants_load_id) as participants_load_id,
        max(age_cells.residents_load_id) as residents_load_id
    from age_cells
    cross join (values ('sex_male', true), ('sex_female', false)) as sexes (population_group_code, is_male)
    group by age_cells.district_code, age_cells.month, sexes.population_group_code
),

prisoners as (
    select
        district_code,
        month,
        'wbp' as population_group_code,
        sum(enrolled) as participants,
        sum(inmates) as residents,
        'pemasyarakatan' as residents_source,
        (month + interval '1 month' - interval '1 day')::date as residents_as_of_date,
        null::text as reported_under_code,
        max(load_id) as participants_load_id,
        max(load_id) as residents_load_id
    from wbp
    group by district_code, month
),

poor as (
    select
        district_code,
        month,
        'dtsen_desil_1_4' as population_group_code,
        sum(pbi_participants) as participants,
        sum(individuals) as residents,
        'dtsen' as residents_source,
        (month + interval '1 month' - interval '1 day')::date as residents_as_of_date,
        max(case when region_code_source <> district_code then region_code_source end)
            as reported_under_code,
        max(load_id) as participants_load_id,
        max(load_id) as residents_load_id
    from deciles
    where decile between 1 and 4
    group by district_code, month
),

final as (
    select * from by_sex
    union all
    select * from by_age
    union all
    select * from prisoners
    union all
    select * from poor
)

select * from final
