{#- The inputs fingerprint of each month dq_published_mismatches checks (macros/incremental.sql):
    the loads its checks read, and the tolerance. -#}
{% macro dq_published_mismatches_fingerprints() -%}
    select
        month,
        md5('{{ var('published_pct_tolerance') }} ' || string_agg(source_name || ':' || load_id, ',' order by source_name, load_id))
            as inputs_fingerprint
    from (
        select 'jkn_membership' as source_name, period as month, load_ids as load_id
        from {{ dataset_loads_by_period('jkn_membership') }} as dataset_loads
        union
        select 'participants_by_age', period, load_ids
        from {{ dataset_loads_by_period('participants_by_age') }} as dataset_loads
        union
        select distinct 'dukcapil_residents', semester_month::date, load_id::text
        from (select distinct semester_start_month, semester_end_date, load_id from {{ ref('stg_dukcapil__residents') }}) as semesters
        cross join lateral generate_series(semester_start_month, semester_end_date, interval '1 month') as semester_month
        union
        select 'residents_by_age', period, load_ids
        from {{ dataset_loads_by_period('residents_by_age') }} as dataset_loads
    ) as loads
    group by month
{%- endmacro %}
