{#-
    One row per desa/kelurahan per month, from the person-level sources: living register
    residents, those enrolled in JKN (a resident with two cards counts once), active, and per
    segment of the resident's card (segments add up to participants). Sums over desa give the
    kab/kota figures of the same sources exactly (test assert_desa_rolls_up_to_district).
-#}
with

status as (
    select period, district_code, kecamatan_code, desa_code, enrolled, active, segment
    from {{ ref('person_status') }}
    where alive
),

wilayah as (
    select code, name from {{ person_source('reference', 'wilayah') }} as wilayah
),

counted as (
    select
        period,
        district_code,
        kecamatan_code,
        desa_code,
        count(*) as residents,
        count(*) filter (where enrolled) as participants,
        count(*) filter (where active) as active_participants,
        count(*) filter (where enrolled and segment = 'PBI APBN') as participants_pbi_apbn,
        count(*) filter (where enrolled and segment = 'PBI APBD') as participants_pbi_apbd,
        count(*) filter (where enrolled and segment = 'PPU') as participants_ppu,
        count(*) filter (where enrolled and segment = 'PBPU') as participants_pbpu,
        count(*) filter (where enrolled and segment = 'BP') as participants_bp,
        count(*) filter (
            where enrolled and coalesce(segment, '') not in ('PBI APBN', 'PBI APBD', 'PPU', 'PBPU', 'BP')
        ) as participants_other_segment
    from status
    group by period, district_code, kecamatan_code, desa_code
),

final as (
    select
        counted.period::date as period,
        counted.district_code::text as district_code,
        counted.kecamatan_code::text as kecamatan_code,
        counted.desa_code::text as desa_code,
        wilayah.name::text as desa_name,
        counted.residents::bigint as residents,
        counted.participants::bigint as participants,
        counted.active_participants::bigint as active_participants,
        counted.participants_pbi_apbn::bigint as participants_pbi_apbn,
        counted.participants_pbi_apbd::bigint as participants_pbi_apbd,
        counted.participants_ppu::bigint as participants_ppu,
        counted.participants_pbpu::bigint as participants_pbpu,
        counted.participants_bp::bigint as participants_bp,
        counted.participants_other_segment::bigint as participants_other_segment,
        {{ pct('counted.participants', 'counted.residents') }}::numeric as coverage_pct,
        {{ pct('counted.active_participants', 'counted.participants') }}::numeric as active_pct
    from counted
    left join wilayah on counted.desa_code = wilayah.code
)

select * from final
