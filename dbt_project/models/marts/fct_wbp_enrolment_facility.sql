{#- one row per correctional facility (Lapas/Rutan), kab/kota of domicile and snapshot month:
    prisoners (WBP), those proposed to the local government for JKN and those enrolled -#}
with

wbp as (
    select * from {{ ref('stg_pemasyarakatan__wbp_enrolment') }}
),

districts as (
    select district_code, province_code from {{ ref('dim_districts') }}
),

final as (
    select
        wbp.month,
        wbp.facility_name,
        wbp.facility_type,
        wbp.regional_office,
        wbp.district_code,
        districts.province_code,
        wbp.inmates,
        wbp.proposed,
        wbp.enrolled,
        {{ pct('wbp.proposed', 'wbp.inmates') }} as proposed_pct,
        {{ pct('wbp.enrolled', 'wbp.inmates') }} as enrolled_pct,
        {{ pct('wbp.enrolled', 'wbp.proposed') }} as enrolled_of_proposed_pct,
        wbp.load_id
    from wbp
    inner join districts on wbp.district_code = districts.district_code
)

select * from final
