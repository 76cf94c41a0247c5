{#- one row per correctional facility (Lapas/Rutan), kab/kota of domicile and snapshot month:
    prisoners (WBP), those proposed to the local government for JKN and those enrolled -#}
with

wbp as (
    select * from {{ ref('stg_pemasyarakatan__wbp_enrolment') }}
),

districts as (
    select district_code, district_name, province_code, province_name from {{ ref('dim_districts') }}
),

final as (
    -- the columns' types are the contract BI reads (_marts__models.yml): counts bigint,
    -- percentages numeric, codes text
    select
        wbp.month::date as month,
        wbp.facility_name::text as facility_name,
        wbp.facility_type::text as facility_type,
        wbp.regional_office::text as regional_office,
        wbp.district_code::text as district_code,
        districts.district_name::text as district_name,
        districts.province_code::text as province_code,
        districts.province_name::text as province_name,
        wbp.inmates::bigint as inmates,
        wbp.proposed::bigint as proposed,
        wbp.enrolled::bigint as enrolled,
        {{ pct('wbp.proposed', 'wbp.inmates') }}::numeric as proposed_pct,
        {{ pct('wbp.enrolled', 'wbp.inmates') }}::numeric as enrolled_pct,
        {{ pct('wbp.enrolled', 'wbp.proposed') }}::numeric as enrolled_of_proposed_pct,
        wbp.load_id::bigint as load_id
    from wbp
    inner join districts on wbp.district_code = districts.district_code
)

select * from final
