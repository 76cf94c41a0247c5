{#- The inputs fingerprint of each month dq_outliers checks (macros/incremental.sql): the district
    facts' fingerprints of the month and of the month before, and the threshold. -#}
{% macro dq_outliers_fingerprints() -%}
    with facts as (
        select month, min(inputs_fingerprint) as inputs_fingerprint
        from {{ ref('fct_coverage_district_month') }}
        group by month
    )

    select
        facts.month,
        md5(concat_ws(' ', '{{ var('outlier_coverage_change_pp') }}', facts.inputs_fingerprint, previous.inputs_fingerprint))
            as inputs_fingerprint
    from facts
    left join facts as previous on previous.month = (facts.month - interval '1 month')::date
{%- endmacro %}
