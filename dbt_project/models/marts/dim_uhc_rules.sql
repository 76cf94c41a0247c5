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
        description::text as description,
        rule_kind::text as rule_kind,
        award_tier::text as award_tier,
        tier_rank::integer as tier_rank,
        min_pemda_registered_pct::numeric as min_pemda_registered_pct,
        pemda_waived_at_active_pct::numeric as pemda_waived_at_active_pct
    from rules
)

select * from final
