{#- one row per kab/kota per month: the residents count in force that month from the denominator
    the var `denominator_source` chooses (dukcapil, as BPJS does, or bps) -#}
{%- set denominator_source = var('denominator_source') %}
{%- if denominator_source not in ['dukcapil', 'bps'] %}
    {{ exceptions.raise_compiler_error(
        "var denominator_source must be 'dukcapil' or 'bps', not '" ~ denominator_source ~ "'"
    ) }}
{%- endif %}
with

residents as (
    select * from {{ ref('int_residents_by_source_month') }}
),

final as (
    select
        district_code,
        month,
        residents,
        residents_source,
        residents_as_of_date,
        reported_under_code,
        load_id
    from residents
    where residents_source = '{{ denominator_source }}'
)

select * from final
