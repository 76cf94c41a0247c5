{#- prisoners per facility, kab/kota of domicile and month: the observations of the wbp dataset
    (any contract feeding it; where several give the same kab/kota and month, the one the
    precedence seed ranks first), the facility from the observations' detail. The regional
    office is not a measure: it comes from the Ditjenpas layout's own raw row where there is one. -#}
with

observations as (
    select * from {{ ranked_observations('wbp') }} as observations
    where source_rank = 1
),

ditjenpas_rows as (
    select _load_id, _source_row, regional_office
    from {{ optional_source('pemasyarakatan', 'pemasyarakatan_wbp_jkn', {
        'regional_office': 'text', 'facility_name': 'text', 'domicile_name': 'text',
        'inmates': 'bigint', 'proposed': 'bigint', 'enrolled': 'bigint'
    }) }} as raw_rows
),

pivoted as (
    select
        period as month,
        trim(regexp_replace(detail, '\s+', ' ', 'g')) as facility_name,
        region_code as district_code,
        trim(regexp_replace(max(region_code_source), '\s+', ' ', 'g')) as domicile_name_source,
        max(value) filter (where measure = 'wbp_inmates')::bigint as inmates,
        max(value) filter (where measure = 'wbp_proposed')::bigint as proposed,
        max(value) filter (where measure = 'wbp_enrolled')::bigint as enrolled,
        {{ observation_lineage() }}
    from observations
    group by period, detail, region_code
),

final as (
    select
        pivoted.month,
        pivoted.facility_name,
        case
            when pivoted.facility_name ~* '^\s*lpka' then 'lpka'
            when pivoted.facility_name ~* '^\s*lpp' then 'lpp'
            when pivoted.facility_name ~* '^\s*(lapas|lembaga pemasyarakatan)' then 'lapas'
            when pivoted.facility_name ~* '^\s*(rutan|rumah tahanan)' then 'rutan'
            else 'other'
        end as facility_type,
        trim(ditjenpas_rows.regional_office) as regional_office,
        pivoted.district_code,
        pivoted.domicile_name_source,
        pivoted.inmates,
        pivoted.proposed,
        pivoted.enrolled,
        pivoted.source_file,
        pivoted.source_row,
        pivoted.load_id,
        pivoted.loaded_at
    from pivoted
    left join ditjenpas_rows
        on pivoted.load_id = ditjenpas_rows._load_id
        and pivoted.source_row = ditjenpas_rows._source_row
)

select * from final
