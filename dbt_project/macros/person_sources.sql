{#-
    The person-level sources (models/persons/_persons__sources.yml): the table when it exists,
    else no rows with the same columns, so the aggregate warehouse builds with no person data.
    The columns are those of docs/PERSONS.md (PERSONS_SPEC): only those the models read.
-#}
{% macro person_source(source_name, table_name) -%}
    {%- set relation = source(source_name, table_name) -%}
    {%- if execute and not raw_table_exists(relation) -%}
    (
        select
            {% for name, sql_type in person_source_columns(table_name).items() -%}
            null::{{ sql_type }} as {{ name }}{{ "," if not loop.last }}
            {% endfor -%}
        where false
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}


{% macro person_source_columns(table_name) -%}
    {%- set columns = {
        'person_records': {
            'record_id': 'bigint', 'load_id': 'bigint', 'row_number': 'integer',
            'district_code': 'text',
            'kecamatan_code': 'text', 'desa_code': 'text', 'nik': 'text', 'nik_key': 'text',
            'nik_status': 'text', 'kk': 'text', 'kk_key': 'text', 'card_no': 'text',
            'card_key': 'text', 'full_name': 'text', 'sex': 'text', 'birth_place': 'text',
            'birth_date': 'date', 'address': 'text', 'rt': 'text', 'rw': 'text',
            'alive': 'boolean', 'died_on': 'date', 'segment': 'text', 'active': 'boolean',
            'inactive_reason': 'text', 'registered_on': 'date', 'fktp': 'text',
            'desil': 'smallint', 'facility': 'text',
        },
        'wilayah': {'code': 'text', 'name': 'text', 'level': 'text', 'district_code': 'text'},
        'worklist_verifications': {
            'worklist_id': 'text', 'status': 'text', 'verified_by': 'text',
            'verified_on': 'date', 'load_id': 'bigint', 'loaded_at': 'timestamptz',
        },
    } -%}
    {{ return(columns[table_name]) }}
{%- endmacro %}


{#- Whether any person-level record has been landed (the table exists). -#}
{% macro has_person_records() -%}
    {%- if not execute -%}{{ return(false) }}{%- endif -%}
    {{ return(raw_table_exists(source('restricted', 'person_records'))) }}
{%- endmacro %}


{#-
    pg_trgm's similarity(), qualified by the schema the extension lives in (the pre-hook
    `ensure_pg_trgm` of stg_persons__records creates it once person records exist; dbt compiles
    a model just before it runs it). Without the extension there are no
    person records to compare: a stand-in that compiles (equal names 1, else 0).
-#}
{% macro trgm_similarity(left, right) -%}
    {%- set schema = none -%}
    {%- if execute -%}
        {%- set found = run_query("select extnamespace::regnamespace::text from pg_extension where extname = 'pg_trgm'") -%}
        {%- if found.rows | length > 0 -%}{%- set schema = found.columns[0].values()[0] -%}{%- endif -%}
    {%- endif -%}
    {%- if schema is none -%}
    (case when {{ left }} = {{ right }} then 1 else 0 end)::real
    {%- else -%}
    {{ schema }}.similarity({{ left }}, {{ right }})
    {%- endif -%}
{%- endmacro %}


{#-
    Pre-hook of stg_persons__records: pg_trgm (trusted, so a user with CREATE on the database
    creates it) once person records exist; a clear error when the server has no such extension
    (the person models fail, the aggregates build). A warehouse without person data needs nothing.
-#}
{% macro ensure_pg_trgm() -%}
    {%- if execute and has_person_records() -%}
        {%- set available = run_query("select count(*) from pg_available_extensions where name = 'pg_trgm'") -%}
        {%- if available.columns[0].values()[0] == 0 -%}
            {{ exceptions.raise_compiler_error(
                "the PostgreSQL server has no extension pg_trgm (contrib), which the person matching "
                ~ "needs: install the server's contrib package (postgresql-contrib) or use the "
                ~ "embedded PostgreSQL") }}
        {%- endif -%}
        create extension if not exists pg_trgm with schema public
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
