{#-
    Which landed rows are current. A later load of the same source supersedes an earlier one
    where their scopes meet (raw.superseded, written by the loader: per period and region, `*`
    for every region, a null period for the whole load); superseded rows stay in raw, out of the
    facts' way, and come back when the newer load is removed.
-#}
{% macro is_current(load_id, period, region_code) -%}
    not exists (
        select 1
        from {{ source('cakupan', 'superseded') }} as superseded
        where superseded.load_id = {{ load_id }}
            and (superseded.period = {{ period }} or superseded.period is null)
            and (superseded.region_code = '*' or superseded.region_code = {{ region_code }})
    )
{%- endmacro %}

{#- A dataset's observations (raw.observations_<dataset>): the partition when some source has
    fed it, else no rows with the same columns. -#}
{% macro observations_of(dataset) -%}
    {%- set relation = source('observations', dataset) -%}
    {%- if execute and adapter.get_relation(relation.database, relation.schema, relation.identifier) is none -%}
    (
        select
            null::text as dataset, null::bigint as load_id, null::text as source,
            null::text as publisher, null::text as measure, null::text as group_code,
            null::text as detail, null::text as region_level, null::text as region_code,
            null::text as region_system, null::text as region_code_source,
            null::date as period, null::text as grain, null::numeric as value,
            null::text as source_file, null::text as sheet, null::integer as source_row,
            null::timestamptz as loaded_at
        where false
    )
    {%- else -%}
    {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- A dataset's current observations (not superseded; a load's observations exist only once it
    has succeeded, and go when it is removed), each with its
    source's precedence (seed source_precedence; 1000 for a source not listed) and its rank among
    the sources that give the same region and period (1: the one the facts take). -#}
{% macro ranked_observations(dataset) -%}
    (
        select
            ranked.*,
            dense_rank() over (
                partition by ranked.region_code, ranked.period
                order by ranked.precedence, ranked.load_id desc
            ) as source_rank
        from (
            select observations.*, coalesce(precedence.precedence, 1000) as precedence
            from {{ current_observations(dataset) }} as observations
            left join {{ ref('source_precedence') }} as precedence
                on precedence.dataset = '{{ dataset }}'
                and observations.source = precedence.source_name
            where observations.region_level = 'district'
        ) as ranked
    )
{%- endmacro %}

{#- Per period, the current loads that feed a dataset (`source:load,...`), from the loads'
    scopes (raw.load_scopes, a few rows per load) rather than from the observations: what the
    incremental models' month fingerprints are built from, so that finding the months to
    rebuild does not read every observation of the history. -#}
{% macro dataset_loads_by_period(dataset) -%}
    (
        select
            scopes.period,
            string_agg(distinct scopes.source || ':' || scopes.load_id, ',') as load_ids
        from {{ source('cakupan', 'load_scopes') }} as scopes
        where scopes.dataset = '{{ dataset }}'
            and {{ is_current('scopes.load_id', 'scopes.period', 'scopes.region_code') }}
        group by scopes.period
    )
{%- endmacro %}

{#- A dataset's current observations: not superseded by a later load of the same source (a
    load's observations are written in the transaction that makes it succeed, and deleted with
    it when it is removed: no load status to filter, nor a dependency on the load log). -#}
{% macro current_observations(dataset) -%}
    (
        select observations.*
        from {{ observations_of(dataset) }} as observations
        where {{ is_current('observations.load_id', 'observations.period', 'observations.region_code') }}
    )
{%- endmacro %}

{#- The lineage of a pivoted group of observations: its first file and row, its load. -#}
{% macro observation_lineage() -%}
        min(source_file) as source_file,
        min(source_row) as source_row,
        max(load_id) as load_id,
        max(loaded_at) as loaded_at
{%- endmacro %}
