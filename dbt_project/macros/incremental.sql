{#- true in an incremental run whose target table already has this column: the rows built before
    can be compared with the new ones (a table built by an older version of the model is rebuilt
    whole instead of failing) -#}
{% macro built_with_column(column_name) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in names) }}
{%- endmacro %}
