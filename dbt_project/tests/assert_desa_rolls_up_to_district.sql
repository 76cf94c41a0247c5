-- The desa figures of the person-level sources add up to the kab/kota figures computed from the
-- same sources (person_status, in fct_person_reconciliation_district_month), for every kab/kota
-- and month, and no kab/kota-month is missing on either side.
with

desa as (
    select * from {{ ref('fct_coverage_desa_month') }}
),

districts as (
    select * from {{ ref('fct_person_reconciliation_district_month') }}
    where register_residents > 0
),

rolled_up as (
    select
        period,
        district_code,
        sum(residents) as residents,
        sum(participants) as participants,
        sum(participants_pbi_apbn + participants_pbi_apbd + participants_ppu + participants_pbpu
            + participants_bp + participants_other_segment) as segment_participants
    from desa
    group by period, district_code
),

final as (
    select
        coalesce(rolled_up.period, districts.period) as period,
        coalesce(rolled_up.district_code, districts.district_code) as district_code,
        rolled_up.residents as desa_residents,
        districts.register_residents,
        rolled_up.participants as desa_participants,
        rolled_up.segment_participants,
        districts.person_participants
    from rolled_up
    full join districts
        on rolled_up.period = districts.period
        and rolled_up.district_code = districts.district_code
)

select * from final
where desa_residents is distinct from register_residents
    or desa_participants is distinct from person_participants
    or segment_participants is distinct from person_participants
