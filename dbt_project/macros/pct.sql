{#- a percentage from 0 to 100, unrounded; null when the denominator is missing or zero -#}
{% macro pct(numerator, denominator) -%}
    (100.0 * ({{ numerator }})::numeric / nullif(({{ denominator }})::numeric, 0))
{%- endmacro %}
