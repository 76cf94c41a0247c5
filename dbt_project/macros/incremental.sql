{#- true in an incremental run whose target table already has this column: the rows built before
    can be compared with the new ones (a table built by an older version of the model is rebuilt
    whole instead of failing) -#}
{% macro built_with_column(column_name) -%}
    {#- a unit test's model has no `this` -#}
    {%- if not execute or this is none or not is_incremental() -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set names = adapter.get_columns_in_relation(this) | map(attribute='name') | map('lower') | list -%}
    {{ return(column_name | lower in names) }}
{%- endmacro %}

{#- The months an incremental run rebuilds: those whose inputs differ from what the table was built
    from. `fingerprints_sql` gives one row per month the model builds, with `inputs_fingerprint`:
    a hash of what the month is computed from (the loads behind it, the dimensions it joins). It
    must read only cheap, per-month aggregates, so that finding the months costs little next to
    building one. The table stores each month's fingerprint in `inputs_fingerprint`; a table that
    may have no row for a month (a table of exceptions, `sparse`) keeps them in a relation beside
    it instead (`months_relation`, written by the post-hook `save_months_built`).

    Returns none (build every month) outside an incremental run and on a table built by an older
    version of the model; else a list of 'YYYY-MM-DD' strings, empty when nothing changed. A
    month that is no longer in the inputs (its loads were removed, `cakupan loads remove`) is
    listed too: delete+insert alone would leave its rows, since it replaces only the months it
    inserts rows for, so every such model deletes the listed months first (pre-hook
    `delete_months_built`) and ends as a `--full-refresh` would. -#}
{% macro months_to_rebuild(fingerprints_sql, sparse=false) %}
    {%- set built_months = none -%}
    {%- if sparse -%}
        {%- if not execute or this is none or not is_incremental() -%}
            {{ return(none) }}
        {%- endif -%}
        {%- set built_months = months_relation() -%}
        {%- if adapter.get_relation(built_months.database, built_months.schema, built_months.identifier) is none -%}
            {{ return(none) }}
        {%- endif -%}
    {%- elif not built_with_column('inputs_fingerprint') -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set query -%}
        with inputs as (
            {{ fingerprints_sql }}
        ),

        -- the months built, one index probe each (a loose index scan on the month index):
        -- `select distinct` would read every row of the fact, which grows with the history
        months_built as (
            with recursive months as (
                (select month from {{ built_months or this }} order by month limit 1)
                union all
                select (
                    select t.month from {{ built_months or this }} as t
                    where t.month > months.month order by t.month limit 1
                )
                from months
                where months.month is not null
            )

            select month from months where month is not null
        ),

        built as (
            -- every row of a month carries the month's one fingerprint
            select
                months_built.month,
                (
                    select t.inputs_fingerprint from {{ built_months or this }} as t
                    where t.month = months_built.month limit 1
                ) as inputs_fingerprint
            from months_built
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

{#- Months an incremental model rebuilt in this dbt invocation, for its data tests: a `dbt build`
    tests a model right after building it, and the rows it did not rebuild were tested when they
    were built. The model records its months (`remember_months_built`, after
    `months_to_rebuild`) in the invocation's `graph`, which every node of one invocation shares;
    `months_built` reads them back: none (test every row) when the model did not record them in
    this invocation (`dbt test`, a full build, another process), else the list of months. -#}
{% macro remember_months_built(months) %}
    {%- if execute and this is not none -%}
        {%- set built = graph.setdefault('cakupan_months_built', {}) -%}
        {%- do built.update({this.schema ~ '.' ~ this.identifier: {'invocation_id': invocation_id, 'months': months}}) -%}
    {%- endif -%}
{% endmacro %}

{% macro months_built(relation) %}
    {%- if not execute or relation is string or relation.identifier is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set record = graph.get('cakupan_months_built', {}).get(relation.schema ~ '.' ~ relation.identifier) -%}
    {%- if record is none or record['invocation_id'] != invocation_id -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(record['months']) }}
{% endmacro %}

{#- dbt's own get_where_subquery (the relation a generic test reads, filtered by its `where`
    config), narrowed to the months the model rebuilt in this invocation (`months_built`). -#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where', '') -%}
    {%- set months = months_built(relation) -%}
    {%- if months is not none -%}
        {%- set where = ('(' ~ where ~ ') and ' if where else '') ~ in_months('month', months) -%}
    {%- endif -%}
    {%- if where -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ where }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The months' fingerprints of a table of exceptions, which may have no row for a month it checked:
    a relation beside it in the `intermediate` schema, (month, inputs_fingerprint), that
    `months_to_rebuild(..., sparse=true)` compares with. -#}
{% macro months_relation() %}
    {{ return(api.Relation.create(database=this.database, schema='intermediate', identifier=this.identifier ~ '__months')) }}
{% endmacro %}

{#- Hooks of an incremental model, inside the model's transaction. Before (every such model): delete
    the rows of the months the model body chose (`remember_months_built`); delete+insert alone
    replaces only the months it inserts rows for. After (a table of exceptions only): record those
    months' fingerprints (every month's on a full build). -#}
{% macro delete_months_built() %}
    {%- if execute and is_incremental() -%}
        delete from {{ this }} where {{ in_months('month', months_built(this)) }}
    {%- endif -%}
{% endmacro %}

{% macro save_months_built(fingerprints_sql) %}
    {%- if execute -%}
        {%- set months = months_built(this) if is_incremental() else none -%}
        {%- set relation = months_relation() -%}
        create table if not exists {{ relation }} (month date, inputs_fingerprint text);
        delete from {{ relation }} where {{ in_months('month', months) }};
        insert into {{ relation }} (month, inputs_fingerprint)
        select month, inputs_fingerprint from ({{ fingerprints_sql }}) as fingerprints
        where {{ in_months('month', months) }}
    {%- endif -%}
{% endmacro %}

{#- `months_built` of several relations together (a test comparing them): none when any of them
    was not built incrementally in this invocation, else every month any of them rebuilt. -#}
{% macro months_built_in_any(relations) %}
    {%- set months = [] -%}
    {%- for relation in relations -%}
        {%- set built = months_built(relation) -%}
        {%- if built is none -%}
            {{ return(none) }}
        {%- endif -%}
        {%- do months.extend(built) -%}
    {%- endfor -%}
    {{ return(months | unique | sort | list) }}
{% endmacro %}
