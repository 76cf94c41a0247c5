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

{#- The months an incremental run rebuilds: those whose inputs differ from what the table was built
    from. `fingerprints_sql` gives one row per month the model builds, with `inputs_fingerprint`:
    a hash of what the month is computed from (the loads behind it, the dimensions it joins). It
    must read only cheap, per-month aggregates, so that finding the months costs little next to
    building one. The table stores each month's fingerprint in `inputs_fingerprint`.

    Returns none (build every month) outside an incremental run and on a table built by an older
    version of the model; else a list of 'YYYY-MM-DD' strings, empty when nothing changed. A
    month that is no longer in the inputs is listed too, but delete+insert leaves its rows: a
    `--full-refresh` removes them. -#}
{% macro months_to_rebuild(fingerprints_sql) %}
    {%- if not built_with_column('inputs_fingerprint') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with inputs as (
            {{ fingerprints_sql }}
        ),

        built as (
            select distinct month, inputs_fingerprint from {{ this }}
        )

        select distinct to_char(coalesce(inputs.month, built.month), 'YYYY-MM-DD') as month
        from inputs
        full outer join built on inputs.month = built.month
        where inputs.inputs_fingerprint is distinct from built.inputs_fingerprint
        order by 1
    {%- endset -%}
    {{ return(run_query(query).columns[0].values() | list) }}
{% endmacro %}

{#- A filter on a month column for the months `months_to_rebuild` returned: `true` when every
    month is built. Written as literal dates so that PostgreSQL applies it inside the views the
    model reads (a subquery would only filter their finished rows). -#}
{% macro in_months(column, months) -%}
    {%- if months is none -%}
        true
    {%- elif months | length == 0 -%}
        false
    {%- else -%}
        {{ column }} in ({% for month in months %}date '{{ month }}'{{ ", " if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}

{#- One text value that changes when any row of a small relation changes (seeds, dimensions): part
    of a month's inputs fingerprint. -#}
{% macro relation_fingerprint(relation) -%}
    (select md5(coalesce(string_agg(r::text, '|' order by r::text), '')) from {{ relation }} as r)
{%- endmacro %}
