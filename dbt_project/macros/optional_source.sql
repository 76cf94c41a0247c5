{#-
    A raw table of an optional source (listed in the var `optional_sources`): the table when it
    has been loaded, else no rows with the same columns (the raw layout: provenance columns, the
    contract's fields, `_source_values`). The warehouse builds before every source is wired in;
    the groups or measures of a missing source are simply empty.

    fields: the contract's fields, {name: sql type}, in any order.
-#}
{% macro optional_source(source_name, table_name, fields) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and table_name in var('optional_sources', []) and not raw_table_exists(relation) -%}
    (
        select
            null::bigint as _load_id,
            null::timestamptz as _loaded_at,
            null::text as _source_file,
            null::text as _source_sha256,
            null::text as _sheet,
            null::integer as _source_row,
            null::date as _period,
            null::text as _region_code,
            {% for name, sql_type in fields.items() -%}
            null::{{ sql_type }} as {{ name }},
            {% endfor -%}
            null::jsonb as _source_values
        where false
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}


{#-
    `dbt source freshness` of an optional source that was never loaded (its raw table does not
    exist yet) warns "no data" instead of failing; every other source is checked as dbt does.
-#}
{% macro postgres__collect_freshness(source, loaded_at_field, filter) %}
    {%- if source.identifier in var('optional_sources', []) and not raw_table_exists(source) -%}
        {% call statement('collect_freshness', fetch_result=True, auto_begin=False) -%}
            select null::timestamptz as max_loaded_at, {{ current_timestamp() }} as snapshotted_at
        {%- endcall %}
        {{ return(load_result('collect_freshness')) }}
    {%- endif -%}
    {{ return(dbt.default__collect_freshness(source, loaded_at_field, filter)) }}
{% endmacro %}


{#-
    Whether a raw table exists, asked of the database rather than of dbt's relation cache: a
    command that has not filled that cache beforehand (`dbt source freshness`) fills it from its
    threads as they ask, and a thread can read the list of a schema another is still filling, so
    a table that exists could be reported missing (a source measured as never loaded).
-#}
{% macro raw_table_exists(relation) -%}
    {%- set name = relation.include(database=false).render() -%}
    {%- set found = run_query("select to_regclass(" ~ dbt.string_literal(name) ~ ") is not null") -%}
    {{ return(found.columns[0].values()[0]) }}
{%- endmacro %}
