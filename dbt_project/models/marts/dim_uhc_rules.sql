with

rules as (
    select * from {{ ref('uhc_rules') }}
),

final as (
    select
        rule_code::text as uhc_rule_code,
        valid_from::date as valid_from_date,
        valid_to::date as valid_to_date,
        min_coverage_pct::numeric as min_coverage_pct,
        min_active_pct::numeric as min_active_pct,
        description::text as description
    from rules
)

select * from final
